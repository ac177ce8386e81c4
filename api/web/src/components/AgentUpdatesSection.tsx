// The "Updates" section of the agent page: the version it runs and its update history, each
// update with the updater's last step and reason (agent-supplied text, shown as text).
import { api } from '../lib/api';
import { useAsync } from '../lib/hooks';
import { fmtAgo, fmtTime } from '../lib/format';
import type { AgentUpdates } from '../lib/rollouts';
import { Badge, Empty, ErrorBox, Loading } from './status';

const STEP_BADGE: Record<string, string> = { healthy: 'online', refused: 'critical',
                                             rolled_back: 'critical', failed: 'critical' };

export function AgentUpdatesSection({ agentId }: { agentId: string }) {
  const u = useAsync((s) => api.get<AgentUpdates>(
    `/api/v1/agents/${encodeURIComponent(agentId)}/updates`, undefined, s), [agentId]);
  return (
    <section aria-labelledby="updates-h">
      <h2 id="updates-h">Updates</h2>
      {u.loading && !u.data && <Loading what="updates" />}
      <ErrorBox error={u.error} what="load the update history" onRetry={u.reload} />
      {u.data && (
        <>
          <p>Running version <strong>{u.data.current_version ?? 'unknown'}</strong>.</p>
          {u.data.items.length === 0 ? (
            <Empty>No update yet.</Empty>
          ) : (
            <table className="grid">
              <thead>
                <tr>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Step</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {u.data.items.map((x) => (
                  <tr key={x.command_id}>
                    <td>{x.from_version}</td>
                    <td>{x.to_version}</td>
                    <td><Badge kind={STEP_BADGE[x.step] ?? 'info'}>{x.step}</Badge></td>
                    <td>{x.reason}{x.detail ? <div className="small muted">{x.detail}</div> : null}</td>
                    <td title={fmtTime(x.updated_at)}>{fmtAgo(x.updated_at)}</td>
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
