import { useEffect, useState } from 'react';
import { fmtTime, fmtValue } from '../lib/format';
import { usePaged } from '../lib/paged';
import { setQuery, type Location } from '../lib/router';
import type { AuditRow } from '../lib/types';
import { Empty, ErrorBox, Loading } from '../components/status';

export function AuditPage({ loc }: { loc: Location }) {
  const actor = loc.query.get('actor') ?? '';
  const clientId = loc.query.get('client_id') ?? '';
  const [actorText, setActorText] = useState(actor);
  useEffect(() => setActorText(actor), [actor]);
  const list = usePaged<AuditRow>('/api/v1/audit', { actor, client_id: clientId });
  return (
    <section>
      <h1>Audit log</h1>
      <form className="toolbar" onSubmit={(e) => { e.preventDefault(); setQuery(loc, { actor: actorText.trim() }); }}>
        <label>
          Actor
          <input value={actorText} onChange={(e) => setActorText(e.target.value)} placeholder="username" />
        </label>
        <button type="submit">Filter</button>
        {(actor || clientId) && (
          <button type="button" onClick={() => setQuery(loc, { actor: null, client_id: null })}>Clear</button>
        )}
      </form>
      {list.loading && list.items.length === 0 && <Loading what="the audit log" />}
      <ErrorBox error={list.error} what="load the audit log" onRetry={list.reload} />
      {!list.loading && !list.error && list.items.length === 0 && <Empty>No audit entries match.</Empty>}
      {list.items.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((r) => (
              <tr key={r.stream_seq}>
                <td>{fmtTime(r.occurred_at)}</td>
                <td>{r.actor}{r.impersonator ? ` (by ${r.impersonator})` : ''}</td>
                <td><code>{r.action}</code></td>
                <td>{r.target_kind}{r.target_id ? ` ${r.target_id}` : ''}</td>
                <td className="detail">{fmtValue(r.detail)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.hasMore && (
        <button type="button" onClick={list.more} disabled={list.loading}>Load more</button>
      )}
    </section>
  );
}
