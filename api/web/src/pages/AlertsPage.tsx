import { useRef } from 'react';
import { can, useAuth } from '../lib/auth';
import { useLive } from '../lib/live';
import { usePaged } from '../lib/paged';
import { setQuery, type Location } from '../lib/router';
import type { AlertRow } from '../lib/types';
import { AlertsTable } from '../components/AlertsTable';
import { Empty, ErrorBox, Loading } from '../components/status';

export function AlertsPage({ loc }: { loc: Location }) {
  const { user } = useAuth();
  const status = loc.query.get('status') ?? 'active';
  const severity = loc.query.get('severity') ?? '';
  const agentId = loc.query.get('agent_id') ?? '';
  const clientId = loc.query.get('client_id') ?? '';
  const list = usePaged<AlertRow>('/api/v1/alerts', { status, severity, agent_id: agentId,
                                                      client_id: clientId });
  const timer = useRef(0);
  useLive<AlertRow>('alert', () => {
    if (timer.current) return;
    timer.current = window.setTimeout(() => {
      timer.current = 0;
      list.reload();
    }, 1000);
  });

  useLive('resync', list.reload);

  return (
    <section>
      <h1>Alerts</h1>
      <form className="toolbar" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select value={status} onChange={(e) => setQuery(loc, { status: e.target.value === 'active' ? null : e.target.value })}>
            <option value="active">active</option>
            <option value="resolved">resolved</option>
            <option value="all">all</option>
          </select>
        </label>
        <label>
          Severity
          <select value={severity} onChange={(e) => setQuery(loc, { severity: e.target.value })}>
            <option value="">any</option>
            <option value="critical">critical</option>
            <option value="warning">warning</option>
            <option value="info">info</option>
          </select>
        </label>
        {(agentId || clientId) && (
          <button type="button" onClick={() => setQuery(loc, { agent_id: null, client_id: null })}>
            {agentId ? 'Show every agent' : 'Show every client'}
          </button>
        )}
      </form>
      {list.loading && list.items.length === 0 && <Loading what="alerts" />}
      <ErrorBox error={list.error} what="load alerts" onRetry={list.reload} />
      {!list.loading && !list.error && list.items.length === 0 && (
        <Empty>No {status === 'all' ? '' : `${status} `}alerts match.</Empty>
      )}
      {list.items.length > 0 && (
        <AlertsTable alerts={list.items} canAct={can(user, 'technician')} onChanged={list.reload} />
      )}
      {list.hasMore && (
        <button type="button" onClick={list.more} disabled={list.loading}>Load more</button>
      )}
    </section>
  );
}
