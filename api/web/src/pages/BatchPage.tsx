// A bulk request's progress and results (GET /api/v1/command-batches/{id}): one row per agent
// with its state (queued, running, done, failed) and output, refreshed until every command ended.
// Hostnames and output come from agents: text nodes only.
import { useState } from 'react';
import { api } from '../lib/api';
import { fmtTime } from '../lib/format';
import { useAsync, useInterval } from '../lib/hooks';
import { Link } from '../lib/router';
import type { BatchItem } from '../lib/types';
import { isFinished } from '../components/CommandConsole';
import { batchState } from '../lib/bulk';
import { Badge, ErrorBox, Loading } from '../components/status';

const BADGE = { queued: 'info', running: 'info', done: 'online', failed: 'critical' } as const;

export function BatchPage({ id }: { id: string }) {
  const batch = useAsync((s) => api.get<{ id: string; items: BatchItem[] }>(
    `/api/v1/command-batches/${encodeURIComponent(id)}`, undefined, s), [id]);
  const items = batch.data?.items ?? [];
  const open = items.some((c) => !isFinished(c.status));
  // Poll while anything runs; a batch the projector has not folded yet is a 404 for a moment.
  useInterval(batch.reload, !batch.data || open ? 2000 : null);
  const [shown, setShown] = useState<string | null>(null);
  if (batch.loading && !batch.data) return <Loading what="the batch" />;
  if (!batch.data) return <ErrorBox error={batch.error} what="load the batch" onRetry={batch.reload} />;
  const counts = { queued: 0, running: 0, done: 0, failed: 0 };
  for (const c of items) counts[batchState(c)] += 1;
  return (
    <section className="batch-page">
      <p className="crumbs"><Link to="/agents">Agents</Link> / batch</p>
      <h1>{items[0]?.summary || items[0]?.kind || 'Batch'}</h1>
      <p className="count" role="status" aria-live="polite">
        {`${items.length} agent${items.length === 1 ? '' : 's'}: ${counts.done} done, ` +
         `${counts.failed} failed, ${counts.running} running, ${counts.queued} queued`}
      </p>
      <table className="grid batch">
        <thead>
          <tr>
            <th scope="col">Agent</th>
            <th scope="col">State</th>
            <th scope="col" className="num">Exit</th>
            <th scope="col">Finished</th>
            <th scope="col">Output</th>
          </tr>
        </thead>
        <tbody>
          {items.map((c) => {
            const state = batchState(c);
            const out = c.stdout || c.stderr || c.reason || '';
            const more = shown === c.id;
            return (
              <tr key={c.id} data-command-id={c.id} data-state={state}>
                <td>
                  <Link to={`/agents/${encodeURIComponent(c.agent_id)}`}>{c.hostname || c.agent_id}</Link>
                </td>
                <td>
                  <Badge kind={BADGE[state]}>{state}</Badge>{' '}
                  <span className="muted">{c.status}</span>
                </td>
                <td className="num">{c.exit_code ?? '—'}</td>
                <td>{fmtTime(c.finished_at)}</td>
                <td className="batch-output">
                  <pre className="output">{more ? out : out.split('\n').slice(0, 3).join('\n')}</pre>
                  <div className="buttons">
                    {out.includes('\n') && (
                      <button type="button" className="link" aria-expanded={more}
                              onClick={() => setShown(more ? null : c.id)}>
                        {more ? 'Less' : 'More'}
                      </button>
                    )}
                    {(c.stdout_truncated || c.stderr_truncated || c.stderr) && (
                      <Link to={`/commands/${encodeURIComponent(c.id)}`}>Full output</Link>
                    )}
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
