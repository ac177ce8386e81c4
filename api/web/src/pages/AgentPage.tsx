// One agent: summary, live charts, command console (with the run-script dialog), the registry
// editor of a Windows agent, alerts, top processes, inventory and effective policy. Every value
// from the agent is a text node.
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError } from '../lib/api';
import { can, useAuth } from '../lib/auth';
import { fmtAgo, fmtBytes, fmtPct, fmtTime, fmtValue } from '../lib/format';
import { useAsync } from '../lib/hooks';
import { useLive } from '../lib/live';
import { Link, type Location } from '../lib/router';
import type { AgentDetail, AlertRow } from '../lib/types';
import { AlertsTable } from '../components/AlertsTable';
import { CommandConsole, issueCommand, useRuns } from '../components/CommandConsole';
import { MetricsPanel } from '../components/MetricsPanel';
import { RegistryEditor } from '../components/RegistryEditor';
import { RunScriptDialog } from '../components/RunScriptDialog';
import { isWindowsOs } from '../lib/scripts';
import { Badge, Dialog, Empty, ErrorBox, Loading } from '../components/status';
import { AgentUpdatesSection } from '../components/AgentUpdatesSection';
import { StaleNote } from '../components/StaleNote';
import { useFreshness } from '../lib/freshness';
import { CopyId } from '../components/Names';
import { ProcessTable } from '../components/ProcessTable';
import { MoveAgentButton } from '../components/MoveAgentButton';

function Inventory({ inv }: { inv: Record<string, unknown> | null }) {
  if (!inv || Object.keys(inv).length === 0) return <Empty>No inventory reported yet.</Empty>;
  const entries = Object.entries(inv);
  const scalars = entries.filter(([, v]) => v === null || typeof v !== 'object');
  const nested = entries.filter(([, v]) => v !== null && typeof v === 'object');
  return (
    <>
      <dl className="kv">
        {scalars.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{k.endsWith('_bytes') && typeof v === 'number' ? fmtBytes(v) : fmtValue(v)}</dd>
          </div>
        ))}
      </dl>
      {nested.map(([k, v]) => (
        <details key={k}>
          <summary>{k}{Array.isArray(v) ? ` (${v.length})` : ''}</summary>
          {Array.isArray(v) && v.length > 0 && typeof v[0] === 'object' && v[0] !== null ? (
            <ObjectTable rows={v as Record<string, unknown>[]} />
          ) : (
            <pre className="output">{JSON.stringify(v, null, 2)}</pre>
          )}
        </details>
      ))}
    </>
  );
}

function ObjectTable({ rows }: { rows: Record<string, unknown>[] }) {
  const cols = Array.from(new Set(rows.slice(0, 50).flatMap((r) => Object.keys(r)))).slice(0, 10);
  return (
    <table className="grid">
      <thead>
        <tr>{cols.map((c) => <th key={c} scope="col">{c}</th>)}</tr>
      </thead>
      <tbody>
        {rows.slice(0, 500).map((r, i) => (
          <tr key={i}>{cols.map((c) => <td key={c}>{fmtValue(r[c])}</td>)}</tr>
        ))}
      </tbody>
    </table>
  );
}

function EffectivePolicy({ agentId }: { agentId: string }) {
  const eff = useAsync((s) => api.get<{ settings: Record<string, { value: string;
    source_scope: string; source_id: string | null; source_name?: string | null }> }>(
    `/api/v1/agents/${encodeURIComponent(agentId)}/effective-policy`, undefined, s), [agentId]);
  if (eff.loading) return <Loading what="the effective policy" />;
  if (eff.error) return <ErrorBox error={eff.error} what="load the effective policy" onRetry={eff.reload} />;
  const entries = Object.entries(eff.data?.settings ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <Empty>No policy settings apply.</Empty>;
  return (
    <table className="grid">
      <thead>
        <tr>
          <th scope="col">Setting</th>
          <th scope="col">Value</th>
          <th scope="col">Comes from</th>
        </tr>
      </thead>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <td><code>{k}</code></td>
            <td>{v.value}</td>
            <td>
              {v.source_scope === 'default' || v.source_scope === 'global' || !v.source_id
                ? v.source_scope
                : (
                  <span className="named">
                    <Link to="/policies" query={{ scope: v.source_scope, scope_id: v.source_id }}
                          title={`${v.source_scope} ${v.source_id}`}>
                      {`${v.source_scope} ${v.source_name ?? v.source_id.slice(0, 8)}`}
                    </Link>
                    <CopyId id={v.source_id} />
                  </span>
                )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RevokeDialog({ agentId, hostname, onClose, onDone }: {
  agentId: string; hostname: string; onClose: () => void; onDone: () => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post(`/api/v1/agents/${encodeURIComponent(agentId)}/revoke`, { reason },
                     { wait: 5000 });
      onDone();
      onClose();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title="Revoke agent" open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <p>
          Revoke <strong>{hostname}</strong>? Its credentials stop working at once; the machine
          must enroll again with a new code to come back.
        </p>
        <label>
          Reason
          <input required value={reason} onChange={(e) => setReason(e.target.value)} />
        </label>
        <ErrorBox error={error} what="revoke the agent" />
        <div className="buttons">
          <button type="submit" className="danger">Revoke</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

export function AgentPage({ id, loc }: { id: string; loc: Location }) {
  const { user } = useAuth();
  const agent = useAsync((s) => api.get<AgentDetail>(`/api/v1/agents/${encodeURIComponent(id)}`,
                                                     undefined, s), [id]);
  const { runs, start } = useRuns();
  const [scriptOpen, setScriptOpen] = useState(false);
  const [revoking, setRevoking] = useState(false);
  const [actionError, setActionError] = useState<unknown>(null);
  const quick = async (kind: string, label: string) => {
    setActionError(null);
    try {
      start(await issueCommand(id, { kind }), label);
    } catch (e) {
      setActionError(e);
    }
  };
  // A finished inventory or process refresh changes this page: load it again.
  const refreshed = runs.filter((r) => r.final && r.label.startsWith('[')).length;
  useEffect(() => {
    if (refreshed) agent.reload();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [refreshed]);

  useLive<{ id: string; status: string; last_seen: string }>('agent', (ev) => {
    if (ev.id !== id) return;
    agent.setData((a) => (a ? { ...a, status: ev.status ?? a.status,
                                last_seen: ev.last_seen ?? a.last_seen } : a));
  });
  useLive('resync', agent.reload);
  useLive<AlertRow>('alert', (ev) => {
    if (ev.agent_id !== id) return;
    agent.setData((a) => {
      if (!a) return a;
      const others = (a.alerts ?? []).filter((x) => x.id !== ev.id);
      return { ...a, alerts: ev.status === 'active' ? [ev, ...others] : others };
    });
  });

  const fresh = useFreshness(agent.data, agent.error);

  if (agent.loading && !agent.data) return <Loading what="the agent" />;
  if (agent.error && !agent.data) {
    const missing = agent.error instanceof ApiError && agent.error.status === 404;
    return (
      <section>
        <h1>{missing ? 'No such agent' : 'Agent'}</h1>
        <ErrorBox error={agent.error} what="load the agent" onRetry={agent.reload} />
        <p><Link to="/agents">Back to agents</Link></p>
      </section>
    );
  }
  const a = agent.data!;
  const canRun = can(user, 'technician') && a.status !== 'revoked';
  const windows = isWindowsOs(a.os);
  return (
    <section className="agent-page">
      <p className="crumbs"><Link to="/agents">Agents</Link> /</p>
      <div className="section-head">
        <h1 className="hostname">{a.hostname || a.id}</h1>
        <div className="buttons">
          {canRun && (
            <>
              <button type="button" onClick={() => void quick('refresh_inventory', '[refresh inventory]')}>
                Refresh inventory
              </button>
              <button type="button" onClick={() => void quick('collect_processes', '[collect processes]')}>
                Collect processes
              </button>
            </>
          )}
          {can(user, 'admin') && a.status !== 'revoked' && (
            <MoveAgentButton agent={a} onDone={agent.reload} />
          )}
          {can(user, 'admin') && a.status !== 'revoked' && (
            <button type="button" className="danger" onClick={() => setRevoking(true)}>Revoke…</button>
          )}
        </div>
      </div>
      <ErrorBox error={actionError} what="send the command" />
      {revoking && (
        <RevokeDialog agentId={id} hostname={a.hostname || a.id} onClose={() => setRevoking(false)}
                      onDone={agent.reload} />
      )}
      <StaleNote fresh={fresh} onRetry={agent.reload} />
      <ErrorBox error={agent.error} what="refresh the agent" onRetry={agent.reload} />
      <dl className="kv summary">
        <div><dt>Status</dt><dd><Badge kind={a.status}>{a.status}</Badge></dd></div>
        <div><dt>Last seen</dt><dd title={fmtTime(a.last_seen)}>{fmtAgo(a.last_seen)}</dd></div>
        <div><dt>OS</dt><dd>{a.os}</dd></div>
        <div><dt>Agent version</dt><dd>{a.version}</dd></div>
        <div>
          <dt>Client / site</dt>
          <dd>
            {a.client_id
              ? <Link to="/agents" query={{ client_id: a.client_id }}>{a.client_name ?? a.client_id}</Link>
              : '—'}
            {' / '}
            {a.site_id
              ? <Link to="/agents" query={{ site_id: a.site_id }}>{a.site_name ?? a.site_id}</Link>
              : '—'}
          </dd>
        </div>
        <div><dt>CPU</dt><dd>{fmtPct(a.cpu_percent)}</dd></div>
        <div><dt>Memory</dt><dd>{fmtPct(a.memory_percent)}</dd></div>
        <div><dt>Disk (max)</dt><dd>{fmtPct(a.disk_percent_max)}</dd></div>
        <div><dt>Agent id</dt><dd><code>{a.id}</code></dd></div>
      </dl>

      <MetricsPanel agentId={id} loc={loc} />

      <CommandConsole agentId={id} windows={windows} history={a.recent_commands ?? []}
                      canRun={canRun} runs={runs} start={start} agentOffline={a.status === 'offline'}
                      onRunScript={() => setScriptOpen(true)} />
      <RunScriptDialog key={windows ? 'windows' : 'other'} agentId={id} windows={windows}
                       open={scriptOpen} onClose={() => setScriptOpen(false)} onStarted={start} />

      {windows && canRun && <RegistryEditor agentId={id} canEdit={canRun} />}

      <section aria-labelledby="alerts-h">
        <div className="section-head">
          <h2 id="alerts-h">Active alerts</h2>
          <Link to="/alerts" query={{ agent_id: id, status: 'all' }}>All alerts of this agent</Link>
        </div>
        {(a.alerts ?? []).length === 0 ? (
          <Empty>No active alerts.</Empty>
        ) : (
          <AlertsTable alerts={a.alerts ?? []} canAct={can(user, 'technician')}
                       onChanged={agent.reload} showAgent={false} />
        )}
      </section>

      <section aria-labelledby="proc-h">
        <h2 id="proc-h">Top processes</h2>
        <ProcessTable rows={a.processes} agentId={id} canKill={can(user, 'technician')} />
      </section>

      <section aria-labelledby="inv-h">
        <h2 id="inv-h">Inventory</h2>
        <Inventory inv={a.inventory} />
      </section>

      <AgentUpdatesSection agentId={id} />

      <section aria-labelledby="pol-h">
        <h2 id="pol-h">Effective policy</h2>
        <EffectivePolicy agentId={id} />
      </section>
    </section>
  );
}
