// The audit log (docs/api.md "Audit log filters"): who did what to which thing, by name, with
// the filters as the route's query (shareable) and the same filters for the CSV export.
import { useEffect, useState } from 'react';
import { download, saveFile } from '../lib/api';
import { AUDIT_FILTERS, TARGET_KINDS, actionLabel, detailLines, localToUtc,
  utcToLocal } from '../lib/audit';
import { fmtTime } from '../lib/format';
import { usePaged } from '../lib/paged';
import { setQuery, type Location } from '../lib/router';
import type { AuditRow } from '../lib/types';
import { Actor, EntityRef } from '../components/Names';
import { Empty, ErrorBox, Loading } from '../components/status';

type Filters = Record<(typeof AUDIT_FILTERS)[number], string>;

function filtersOf(loc: Location): Filters {
  const f = {} as Filters;
  for (const k of AUDIT_FILTERS) f[k] = loc.query.get(k) ?? '';
  return f;
}

function Detail({ row }: { row: AuditRow }) {
  const lines = detailLines(row.detail);
  if (lines.length === 0) return <>—</>;
  return (
    <dl className="audit-detail">
      {lines.map(([k, v]) => (
        <div key={k}><dt>{k}</dt><dd>{v}</dd></div>
      ))}
    </dl>
  );
}

export function AuditPage({ loc }: { loc: Location }) {
  const applied = filtersOf(loc);
  const [form, setForm] = useState<Filters>(applied);
  const key = AUDIT_FILTERS.map((k) => applied[k]).join('\u0000');
  // eslint-disable-next-line react-hooks/exhaustive-deps
  useEffect(() => setForm(filtersOf(loc)), [key]);
  const query = Object.fromEntries(AUDIT_FILTERS.filter((k) => applied[k]).map((k) => [k, applied[k]]));
  const list = usePaged<AuditRow>('/api/v1/audit', query);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<unknown>(null);
  const any = AUDIT_FILTERS.some((k) => applied[k]);
  const set = (k: keyof Filters, v: string) => setForm({ ...form, [k]: v });

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      saveFile(await download('/api/v1/audit.csv', query, 'audit.csv'));
    } catch (e) {
      setExportError(e);
    } finally {
      setExporting(false);
    }
  };

  return (
    <section>
      <h1>Audit log</h1>
      <form
        className="toolbar audit-filters"
        aria-label="Audit log filters"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery(loc, Object.fromEntries(AUDIT_FILTERS.map((k) => [k, form[k].trim() || null])));
        }}
      >
        <label>
          Actor
          <input value={form.actor} onChange={(e) => set('actor', e.target.value)}
                 placeholder="username or user:id" />
        </label>
        <label>
          Action
          <input value={form.action} onChange={(e) => set('action', e.target.value)}
                 placeholder="e.g. command_issued" />
        </label>
        <label>
          Target
          <select value={form.target_kind} onChange={(e) => set('target_kind', e.target.value)}>
            <option value="">any kind</option>
            {TARGET_KINDS.map((k) => <option key={k} value={k}>{k.replace('_', ' ')}</option>)}
          </select>
        </label>
        <label>
          Target id
          <input value={form.target_id} onChange={(e) => set('target_id', e.target.value)} />
        </label>
        <label>
          From
          <input type="datetime-local" value={utcToLocal(form.since)}
                 onChange={(e) => set('since', localToUtc(e.target.value))} />
        </label>
        <label>
          To
          <input type="datetime-local" value={utcToLocal(form.until)}
                 onChange={(e) => set('until', localToUtc(e.target.value))} />
        </label>
        <button type="submit">Filter</button>
        {any && (
          <button type="button"
                  onClick={() => setQuery(loc, Object.fromEntries(AUDIT_FILTERS.map((k) => [k, null])))}>
            Clear
          </button>
        )}
        <button type="button" onClick={() => void exportCsv()} disabled={exporting}>
          {exporting ? 'Exporting…' : 'Export CSV'}
        </button>
      </form>
      <ErrorBox error={exportError} what="export the audit log" />
      {list.loading && list.items.length === 0 && <Loading what="the audit log" />}
      <ErrorBox error={list.error} what="load the audit log" onRetry={list.reload} />
      {!list.loading && !list.error && list.items.length === 0 && <Empty>No audit entries match.</Empty>}
      {list.items.length > 0 && (
        <table className="grid audit">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Where</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((r) => (
              <tr key={r.stream_seq}>
                <td>{fmtTime(r.occurred_at)}</td>
                <td>
                  <Actor actor={r.actor} name={r.actor_name} />
                  {r.impersonator && <> (impersonated by <Actor actor={r.impersonator} name={r.impersonator_name} />)</>}
                </td>
                <td>
                  <span title={r.action}>{actionLabel(r.action)}</span>
                  {r.moved_from_site_id && (
                    <div className="audit-moved">
                      {'Moved from site '}
                      <EntityRef kind="site" id={r.moved_from_site_id} name={r.moved_from_site_name} />
                      {' to '}
                      <EntityRef kind="site" id={r.site_id} name={r.site_name} />
                    </div>
                  )}
                </td>
                <td>
                  {r.target_id
                    ? <>{`${r.target_kind.replace('_', ' ')} `}<EntityRef kind={r.target_kind} id={r.target_id} name={r.target_name} /></>
                    : r.target_kind}
                </td>
                <td>
                  {r.client_id && <EntityRef kind="client" id={r.client_id} name={r.client_name} />}
                  {r.site_id && <>{r.client_id ? ' / ' : ''}<EntityRef kind="site" id={r.site_id} name={r.site_name} /></>}
                </td>
                <td className="detail"><Detail row={r} /></td>
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
