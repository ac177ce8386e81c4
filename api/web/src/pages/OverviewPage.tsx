// Fleet overview: online/offline counts, active alerts by severity, and the same per client.
import { useRef } from 'react';
import { api } from '../lib/api';
import { useAsync, useInterval } from '../lib/hooks';
import { useLive } from '../lib/live';
import { Link } from '../lib/router';
import type { Overview } from '../lib/types';
import { Empty, ErrorBox, Loading } from '../components/status';
import { StaleNote } from '../components/StaleNote';
import { useFreshness } from '../lib/freshness';

function Stat({ label, value, kind, to, query }: { label: string; value: number; kind: string;
                                                  to: string;
                                                  query?: Record<string, string> }) {
  return (
    <Link to={to} query={query} className={`stat stat-${kind}`}>
      <span className="stat-value">{value.toLocaleString()}</span>
      <span className="stat-label">{label}</span>
    </Link>
  );
}

export function OverviewPage() {
  const ov = useAsync((signal) => api.get<Overview>('/api/v1/overview', undefined, signal), []);
  useInterval(ov.reload, 15000);
  // Alerts and status changes arrive live; refresh at most every 2 s for them.
  const pending = useRef(0);
  const soon = () => {
    if (pending.current) return;
    pending.current = window.setTimeout(() => {
      pending.current = 0;
      ov.reload();
    }, 2000);
  };
  useLive('alert', soon);
  useLive('agent', soon);
  useLive('resync', ov.reload);
  const fresh = useFreshness(ov.data, ov.error);

  return (
    <section>
      <h1>Fleet overview</h1>
      {ov.loading && !ov.data && <Loading what="the overview" />}
      <ErrorBox error={ov.error} what="load the overview" onRetry={ov.reload} />
      {ov.data && <StaleNote fresh={fresh} onRetry={ov.reload} />}
      {ov.data && (
        <>
          <div className="stats" aria-label="Agents">
            <Stat label="agents" value={ov.data.agents.total} kind="total" to="/agents" />
            <Stat label="online" value={ov.data.agents.online} kind="online" to="/agents"
                  query={{ status: 'online' }} />
            <Stat label="offline" value={ov.data.agents.offline} kind="offline" to="/agents"
                  query={{ status: 'offline' }} />
          </div>
          <h2>Active alerts</h2>
          <div className="stats" aria-label="Active alerts by severity">
            {(['critical', 'warning', 'info'] as const).map((s) => (
              <Stat key={s} label={s} value={ov.data!.alerts[s]} kind={s} to="/alerts"
                    query={{ status: 'active', severity: s }} />
            ))}
          </div>
          <h2>Clients</h2>
          {ov.data.clients.length === 0 ? (
            <Empty>No clients yet. Create one under Clients &amp; sites.</Empty>
          ) : (
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">Client</th>
                  <th scope="col" className="num">Agents</th>
                  <th scope="col" className="num">Online</th>
                  <th scope="col" className="num">Offline</th>
                  <th scope="col" className="num">Active alerts</th>
                </tr>
              </thead>
              <tbody>
                {ov.data.clients.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to="/agents" query={{ client_id: c.id }}>{c.name}</Link>
                    </td>
                    <td className="num">{c.agents}</td>
                    <td className="num">{c.online}</td>
                    <td className="num">{c.agents - c.online}</td>
                    <td className="num">
                      {c.active_alerts > 0 ? (
                        <Link to="/alerts" query={{ status: 'active', client_id: c.id }}>
                          {String(c.active_alerts)}
                        </Link>
                      ) : (
                        '0'
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
