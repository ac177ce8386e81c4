// One rollout: its rings with progress, who each ring left out and why, and every agent's step
// (only the caller's agents: the API filters by scope).
import { api, ApiError } from '../lib/api';
import { useAsync, useInterval } from '../lib/hooks';
import { can, useAuth } from '../lib/auth';
import { fmtAgo, fmtTime } from '../lib/format';
import { Link } from '../lib/router';
import type { RolloutDetail } from '../lib/rollouts';
import { Badge, Empty, ErrorBox, Loading } from '../components/status';
import { HaltButton, ProgressBar } from '../components/RolloutBits';
import { statusBadge } from './ReleasesPage';
import { Actor, EntityRef } from '../components/Names';

const STEP_BADGE: Record<string, string> = { healthy: 'online', refused: 'critical',
                                             rolled_back: 'critical', failed: 'critical',
                                             pending: 'offline' };

export function RolloutPage({ id }: { id: string }) {
  const { user } = useAuth();
  const r = useAsync((s) => api.get<RolloutDetail>(`/api/v1/rollouts/${encodeURIComponent(id)}`,
                                                   undefined, s), [id]);
  useInterval(r.reload, 5000);
  if (r.loading && !r.data) return <Loading what="the rollout" />;
  if (r.error && !r.data) {
    const missing = r.error instanceof ApiError && r.error.status === 404;
    return (
      <section>
        <h1>{missing ? 'No such rollout' : 'Rollout'}</h1>
        <ErrorBox error={r.error} what="load the rollout" onRetry={r.reload} />
        <p><Link to="/releases">Back to releases &amp; rollouts</Link></p>
      </section>
    );
  }
  const d = r.data!;
  const active = d.status === 'created' || d.status === 'running';
  return (
    <section>
      <p className="crumbs"><Link to="/releases">Releases &amp; rollouts</Link> /</p>
      <div className="section-head">
        <h1>{`Rollout of ${d.version}`}</h1>
        {can(user, 'admin') && active && <HaltButton id={d.id} version={d.version} onDone={r.reload} />}
      </div>
      <dl className="kv summary">
        <div><dt>Status</dt><dd>{statusBadge(d.status)}</dd></div>
        {d.halted_reason && <div><dt>Halted</dt><dd>{d.halted_reason}</dd></div>}
        <div>
          <dt>Scope</dt>
          <dd>{d.scope_id ? <>{`${d.scope} `}<EntityRef kind={d.scope} id={d.scope_id} name={d.scope_name} /></> : d.scope}</dd>
        </div>
        <div><dt>Advances at</dt><dd>{`${d.advance_healthy_percent} % healthy`}</dd></div>
        <div><dt>Halts at</dt><dd>{`${d.halt_failed_percent} % failed`}</dd></div>
        <div><dt>Left out by auto_update</dt><dd>{d.excluded_by_policy}</dd></div>
        <div><dt>No release for their platform</dt><dd>{d.no_release_for_platform}</dd></div>
        <div>
          <dt>Created</dt>
          <dd>{`${fmtTime(d.created_at)} by `}<Actor actor={d.created_by} name={d.created_by_name} /></dd>
        </div>
      </dl>
      <ProgressBar counts={d.counts} label="All rings" />

      <section aria-labelledby="rings-h">
        <h2 id="rings-h">Rings</h2>
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Ring</th>
              <th scope="col">Takes</th>
              <th scope="col">Started</th>
              <th scope="col">Progress</th>
              <th scope="col">Left out</th>
            </tr>
          </thead>
          <tbody>
            {d.rings.map((g) => (
              <tr key={g.index} aria-current={g.index === d.current_ring ? 'step' : undefined}>
                <td>{g.index + 1}</td>
                <td>{g.name}</td>
                <td>{g.percent ? `${g.percent} % of the agents in scope`
                                : `${g.planned_agents.length} named agents`}</td>
                <td>{g.started ? fmtAgo(g.started_at) : 'not yet'}</td>
                <td>{g.started ? <ProgressBar counts={g.counts} label={`Ring ${g.name}`} /> : '—'}</td>
                <td className="small">
                  {g.started
                    ? `${g.excluded_by_policy} by auto_update, ${g.no_release_for_platform} without a release`
                    : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      <section aria-labelledby="agents-h">
        <h2 id="agents-h">Agents</h2>
        {d.agents.length === 0 ? (
          <Empty>None of your agents is in a started ring.</Empty>
        ) : (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">Agent</th>
                <th scope="col">Ring</th>
                <th scope="col">Step</th>
                <th scope="col">Reason</th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {d.agents.map((a) => (
                <tr key={`${a.ring_index}/${a.agent_id}`}>
                  <td><Link to={`/agents/${a.agent_id}`}>{a.hostname || a.agent_id}</Link></td>
                  <td>{d.rings[a.ring_index]?.name ?? a.ring_index + 1}</td>
                  <td><Badge kind={STEP_BADGE[a.step] ?? 'info'}>{a.step}</Badge></td>
                  <td>{a.reason ?? ''}{a.detail ? <div className="small muted">{a.detail}</div> : null}</td>
                  <td title={fmtTime(a.updated_at)}>{a.updated_at ? fmtAgo(a.updated_at) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </section>
  );
}
