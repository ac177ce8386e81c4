import { api } from '../lib/api';
import { fmtTime } from '../lib/format';
import { useAsync, useInterval } from '../lib/hooks';
import { Link } from '../lib/router';
import type { CommandRow } from '../lib/types';
import { CommandBadge, isFinished } from '../components/CommandConsole';
import { ErrorBox, Loading } from '../components/status';
import { Actor } from '../components/Names';

export function CommandPage({ id }: { id: string }) {
  const cmd = useAsync((s) => api.get<CommandRow>(`/api/v1/commands/${encodeURIComponent(id)}`,
                                                  undefined, s), [id]);
  useInterval(cmd.reload, cmd.data && !isFinished(cmd.data.status) ? 2000 : null);
  if (cmd.loading && !cmd.data) return <Loading what="the command" />;
  if (!cmd.data) return <ErrorBox error={cmd.error} what="load the command" onRetry={cmd.reload} />;
  const c = cmd.data;
  return (
    <section>
      <p className="crumbs">
        <Link to={`/agents/${encodeURIComponent(c.agent_id)}`}>{c.hostname || 'Agent'}</Link> / command
      </p>
      <h1>{c.summary || c.kind}</h1>
      <dl className="kv summary">
        <div><dt>Status</dt><dd><CommandBadge status={c.status} exitCode={c.exit_code} /></dd></div>
        <div><dt>Kind</dt><dd>{c.kind}</dd></div>
        <div>
          <dt>Issued by</dt>
          <dd>
            <Actor actor={c.issuer} name={c.issuer_name} />
            {c.impersonator && <> (as <Actor actor={c.impersonator} name={c.impersonator_name} />)</>}
          </dd>
        </div>
        <div><dt>Issued</dt><dd>{fmtTime(c.issued_at)}</dd></div>
        <div><dt>Started</dt><dd>{fmtTime(c.started_at)}</dd></div>
        <div><dt>Finished</dt><dd>{fmtTime(c.finished_at)}</dd></div>
        <div><dt>Exit code</dt><dd>{c.exit_code ?? '—'}</dd></div>
        <div><dt>Duration</dt><dd>{c.duration_ms != null ? `${c.duration_ms} ms` : '—'}</dd></div>
        {c.reason && <div><dt>Reason</dt><dd>{c.reason}</dd></div>}
        {c.status === 'queued' && c.expires_at && (
          <div><dt>Expires unless taken</dt><dd>{fmtTime(c.expires_at)}</dd></div>
        )}
      </dl>
      <h2>Standard output{c.stdout_truncated ? ' (truncated)' : ''}</h2>
      <pre className="output">{c.stdout || '(empty)'}</pre>
      <h2>Standard error{c.stderr_truncated ? ' (truncated)' : ''}</h2>
      <pre className="output stderr">{c.stderr || '(empty)'}</pre>
    </section>
  );
}
