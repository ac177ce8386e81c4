// Fleet overview: what a technician opens the dashboard for, from one answer of GET
// /api/v1/overview: agents offline, active alerts by severity, the busiest agents by CPU, memory
// and disk, updates under way, recent failures, and every client (with or without agents). Each
// number and row links into the list it summarises, filtered.
import { useRef, type ReactNode } from 'react';
import { api } from '../lib/api';
import { fmtAgo, fmtPct, fmtTime } from '../lib/format';
import { useAsync, useInterval } from '../lib/hooks';
import { useLive } from '../lib/live';
import { Link } from '../lib/router';
import type { Overview, OverviewAgentRef } from '../lib/types';
import { Badge, Empty, ErrorBox, Loading } from '../components/status';
import { CommandBadge } from '../components/CommandConsole';
import { StaleNote } from '../components/StaleNote';
import { useFreshness } from '../lib/freshness';

function Stat({ label, value, kind, to, query }: { label: string; value: number; kind: string;
                                                  to: string;
                                                  query?: Record<string, string> }) {
  return (
    <Link to={to} query={query} className={`stat stat-${kind}${value > 0 ? ' has' : ''}`}>
      <span className="stat-value">{value.toLocaleString()}</span>
      <span className="stat-label">{label}</span>
    </Link>
  );
}

function Panel({ title, more, children, id }: { title: string; id: string;
                                               more?: { label: string; to: string;
                                                        query?: Record<string, string> };
                                               children: ReactNode }) {
  return (
    <section className="panel" aria-labelledby={id}>
      <h2 id={id}>
        <span>{title}</span>
        {more && <Link to={more.to} query={more.query}>{more.label}</Link>}
      </h2>
      {children}
    </section>
  );
}

function AgentName({ a }: { a: OverviewAgentRef }) {
  return (
    <span>
      <Link to={`/agents/${encodeURIComponent(a.id)}`}>{a.hostname || a.id}</Link>
      {a.client_name && <span className="muted small">{` · ${a.client_name}`}</span>}
    </span>
  );
}

function Meter({ percent }: { percent: number }) {
  const cls = percent >= 90 ? 'meter crit' : percent >= 75 ? 'meter hot' : 'meter';
  return (
    <span className={cls} aria-hidden="true">
      <span style={{ width: `${Math.max(0, Math.min(100, percent))}%` }} />
    </span>
  );
}

function Worst({ rows, metric, sort, title }: {
  rows: (OverviewAgentRef & { percent: number })[] | undefined; metric: string; sort: string;
  title: string;
}) {
  return (
    <Panel title={title} id={`worst-${metric}`}
           more={{ label: 'All by ' + metric, to: '/agents', query: { sort } }}>
      {!rows || rows.length === 0 ? (
        <Empty>No online agent reports its {metric}.</Empty>
      ) : (
        <ol aria-label={title}>
          {rows.map((a) => (
            <li key={a.id}>
              <AgentName a={a} />
              <span className="num">{fmtPct(a.percent)}<Meter percent={a.percent} /></span>
            </li>
          ))}
        </ol>
      )}
    </Panel>
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

  const d = ov.data;
  const hours = d?.recent_hours ?? 24;
  return (
    <section>
      <h1>Fleet overview</h1>
      {ov.loading && !d && <Loading what="the overview" />}
      <ErrorBox error={ov.error} what="load the overview" onRetry={ov.reload} />
      {d && <StaleNote fresh={fresh} onRetry={ov.reload} />}
      {d && (
        <>
          <div className="stats" aria-label="Agents">
            <Stat label="agents" value={d.agents.total} kind="total" to="/agents" />
            <Stat label="online" value={d.agents.online} kind="online" to="/agents"
                  query={{ status: 'online' }} />
            <Stat label="offline" value={d.agents.offline} kind="offline" to="/agents"
                  query={{ status: 'offline' }} />
            {(['critical', 'warning', 'info'] as const).map((s) => (
              <Stat key={s} label={`${s} alerts`} value={d.alerts[s]} kind={s} to="/alerts"
                    query={{ status: 'active', severity: s }} />
            ))}
            {d.updates && (
              <>
                <Stat label="updates under way" value={d.updates.in_progress} kind="updates"
                      to="/releases" />
                <Stat label={`failed updates (${hours} h)`} value={d.updates.failed_24h}
                      kind={d.updates.failed_24h > 0 ? 'bad' : 'updates'} to="/releases" />
              </>
            )}
          </div>

          <div className="overview-grid">
            <Panel title="Offline" id="ov-offline"
                   more={{ label: 'All offline', to: '/agents', query: { status: 'offline' } }}>
              {(d.offline_agents ?? []).length === 0 ? (
                <Empty>Every agent is online.</Empty>
              ) : (
                <ul aria-label="Agents that went offline last">
                  {(d.offline_agents ?? []).map((a) => (
                    <li key={a.id}>
                      <AgentName a={a} />
                      <span className="muted" title={fmtTime(a.last_seen)}>
                        {a.last_seen ? `seen ${fmtAgo(a.last_seen)}` : 'never seen'}
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </Panel>
            <Worst rows={d.worst?.cpu} metric="cpu" sort="-cpu" title="Busiest CPU" />
            <Worst rows={d.worst?.memory} metric="memory" sort="-memory" title="Most memory used" />
            <Worst rows={d.worst?.disk} metric="disk" sort="-disk" title="Fullest disk" />
            <Panel title={`Failures (last ${hours} h)`} id="ov-failures">
              {(d.failures ?? []).length === 0 ? (
                <Empty>No failed command or update.</Empty>
              ) : (
                <ul aria-label="Recent failures">
                  {(d.failures ?? []).map((f) => (
                    <li key={`${f.kind}-${f.command_id}`}>
                      <span>
                        {f.kind === 'command' ? (
                          <Link to={`/commands/${encodeURIComponent(f.command_id)}`}>
                            {f.summary || 'command'}
                          </Link>
                        ) : (
                          <Link to={`/agents/${encodeURIComponent(f.agent_id)}`}>
                            {`update ${f.summary ?? ''}`}
                          </Link>
                        )}
                        <span className="muted small">
                          {' on '}
                          <Link to={`/agents/${encodeURIComponent(f.agent_id)}`}>
                            {f.hostname || f.agent_id}
                          </Link>
                          {` · ${fmtAgo(f.at)}`}
                        </span>
                      </span>
                      {f.status.startsWith('exit ')
                        ? <Badge kind="cmd_failed">{f.status}</Badge>
                        : <CommandBadge status={f.status} />}
                    </li>
                  ))}
                </ul>
              )}
            </Panel>
          </div>

          <h2>Clients</h2>
          {d.clients.length === 0 && !d.unassigned?.agents ? (
            <Empty>No clients yet. Create one under Clients &amp; sites.</Empty>
          ) : (
            <table className="grid clients-overview">
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
                {d.clients.map((c) => (
                  <tr key={c.id}>
                    <td>
                      <Link to="/agents" query={{ client_id: c.id }}>{c.name}</Link>
                    </td>
                    <td className="num">{c.agents}</td>
                    <td className="num">{c.online}</td>
                    <td className="num">
                      {c.agents - c.online > 0 ? (
                        <Link to="/agents" query={{ client_id: c.id, status: 'offline' }}>
                          {String(c.agents - c.online)}
                        </Link>
                      ) : '0'}
                    </td>
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
                {d.unassigned && d.unassigned.agents > 0 && (
                  <tr className="unassigned">
                    <td>
                      <span title="Agents with no site (credentials from rmm-admin), or whose client was deleted">
                        No client
                      </span>
                    </td>
                    <td className="num">{d.unassigned.agents}</td>
                    <td className="num">{d.unassigned.online}</td>
                    <td className="num">{d.unassigned.agents - d.unassigned.online}</td>
                    <td className="num">{d.unassigned.active_alerts}</td>
                  </tr>
                )}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
