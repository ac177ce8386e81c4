// The command console of one agent: type a command (cmd.exe on Windows agents, /bin/sh
// elsewhere), see its output arrive live
// (`command_output` events on /api/v1/live; GET /commands/{id} as the fallback and the final
// word), arrow keys walk the history. Output is text in a <pre>, never markup.
import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api } from '../lib/api';
import { fmtTime } from '../lib/format';
import { useLive } from '../lib/live';
import { Link } from '../lib/router';
import type { CommandRow } from '../lib/types';
import { Badge, ErrorBox } from './status';
import { Actor } from './Names';

const OPEN = new Set(['unknown', 'issued', 'pending', 'queued', 'received', 'started', 'running']);
export const isFinished = (status: string) => !OPEN.has(status);

export interface Run {
  id: string;
  label: string;
  status: string;
  stdout: string;
  stderr: string;
  exitCode?: number | null;
  reason?: string | null;
  error?: unknown;
  /** True once GET /commands/{id} showed it finished (exit code and full output known). */
  final?: boolean;
  /** When this page issued it, and when it expires unless the agent takes it (from the API). */
  issuedAt?: string;
  expiresAt?: string | null;
}

/** The default of `expires_in_s` (docs/api.md): a queued command not taken by then expires. */
const DEFAULT_EXPIRY_MS = 86_400_000;

/** A command's status badge: each status its own look (styles.css, `badge-cmd_*`); a command
 *  that ran to the end but exited non-zero looks failed and says its exit code. */
export function CommandBadge({ status, exitCode }: { status: string; exitCode?: number | null }) {
  if (status === 'completed' && exitCode !== undefined && exitCode !== null && exitCode !== 0) {
    return <Badge kind="cmd_failed">{`exit ${exitCode}`}</Badge>;
  }
  return <Badge kind={`cmd_${status}`}>{status}</Badge>;
}

export async function issueCommand(agentId: string, body: Record<string, unknown>):
    Promise<string> {
  const ans = await api.post<{ commands: { id: string; agent_id: string }[] }>(
    '/api/v1/commands', { agent_ids: [agentId], ...body });
  const id = ans?.commands?.[0]?.id;
  if (!id) throw new Error('the server created no command');
  return id;
}

/** Follows runs to completion: live output events plus a poll of GET /commands/{id}. */
export function useRuns() {
  const [runs, setRuns] = useState<Run[]>([]);
  const update = (id: string, fn: (r: Run) => Run) =>
    setRuns((old) => old.map((r) => (r.id === id ? fn(r) : r)));

  useLive<{ id: string; stream: string | number; offset: number; data: string }>(
    'command_output', (ev) => update(ev.id, (r) => {
      const err = ev.stream === 'stderr' || ev.stream === 1;
      const cur = err ? r.stderr : r.stdout;
      // Chunks carry their byte offset; drop repeats (offset before what we already have).
      if (typeof ev.offset === 'number' && ev.offset < new TextEncoder().encode(cur).length) {
        return r;
      }
      return err ? { ...r, stderr: cur + ev.data } : { ...r, stdout: cur + ev.data };
    }));
  useLive<{ id: string; status: string }>('command', (ev) =>
    update(ev.id, (r) => ({ ...r, status: ev.status })));

  const pending = runs.filter((r) => !r.final && !r.error).map((r) => r.id).join(',');
  useEffect(() => {
    if (!pending) return;
    let stop = false;
    const ids = pending.split(',');
    const tick = async () => {
      for (const id of ids) {
        try {
          const c = await api.get<CommandRow>(`/api/v1/commands/${encodeURIComponent(id)}`);
          if (stop) return;
          update(id, (r) => ({
            ...r,
            status: c.status,
            stdout: (c.stdout ?? '').length >= r.stdout.length ? c.stdout ?? '' : r.stdout,
            stderr: (c.stderr ?? '').length >= r.stderr.length ? c.stderr ?? '' : r.stderr,
            exitCode: c.exit_code,
            reason: c.reason,
            expiresAt: c.expires_at ?? r.expiresAt,
            final: isFinished(c.status),
          }));
        } catch (e) {
          // 404 while the projector has not seen the command yet: keep polling.
          if (!(e instanceof Error && 'status' in e && (e as { status: number }).status === 404)) {
            if (!stop) update(id, (r) => ({ ...r, error: e }));
          }
        }
      }
    };
    const t = window.setInterval(() => void tick(), 1000);
    void tick();
    return () => {
      stop = true;
      window.clearInterval(t);
    };
  }, [pending]);

  const start = (id: string, label: string) =>
    setRuns((old) => [{ id, label, status: 'queued', stdout: '', stderr: '',
                        issuedAt: new Date().toISOString() }, ...old].slice(0, 50));
  return { runs, start };
}

function CancelButton({ id }: { id: string }) {
  const [state, setState] = useState<'idle' | 'sent' | 'error'>('idle');
  const [error, setError] = useState<unknown>(null);
  const cancel = async () => {
    try {
      await api.post(`/api/v1/commands/${encodeURIComponent(id)}/cancel`);
      setState('sent');
    } catch (e) {
      setError(e);
      setState('error');
    }
  };
  return (
    <>
      <button type="button" className="small" disabled={state === 'sent'} onClick={() => void cancel()}>
        {state === 'sent' ? 'Cancel sent' : 'Cancel'}
      </button>
      {state === 'error' && <ErrorBox error={error} what="cancel the command" />}
    </>
  );
}

/** Says that a command waits for an offline agent, and until when. */
function QueuedNote({ run }: { run: Run }) {
  const expires = run.expiresAt ??
    (run.issuedAt ? new Date(Date.parse(run.issuedAt) + DEFAULT_EXPIRY_MS).toISOString() : null);
  return (
    <p className="queued-note note" role="status">
      Queued: the agent is offline. The command runs when it reconnects
      {expires ? `, unless that is after ${fmtTime(expires)}, when it expires` : ''}.
    </p>
  );
}

export function RunOutput({ run, agentOffline }: { run: Run; agentOffline?: boolean }) {
  return (
    <article className="run" data-command-id={run.id} aria-label={`Command ${run.label}`}>
      <header>
        <code className="run-label">{run.label}</code>
        <CommandBadge status={run.status} exitCode={run.exitCode} />
        {run.exitCode !== undefined && run.exitCode !== null && <span>exit {run.exitCode}</span>}
        {run.reason && <span className="muted">{run.reason}</span>}
        <Link to={`/commands/${encodeURIComponent(run.id)}`} className="muted">details</Link>
        {!isFinished(run.status) && <CancelButton id={run.id} />}
      </header>
      {agentOffline && (run.status === 'queued' || run.status === 'issued') && <QueuedNote run={run} />}
      <pre className="output" aria-live="polite">
        {run.stdout}
        {run.stderr && <span className="stderr">{run.stderr}</span>}
        {!run.stdout && !run.stderr && !isFinished(run.status) ? 'waiting for output…' : ''}
      </pre>
      <ErrorBox error={run.error} what="follow this command" />
    </article>
  );
}

export function CommandConsole({ agentId, windows, history, canRun, onRunScript, runs, start,
                                 agentOffline }: {
  agentId: string;
  /** A Windows agent: typed commands run in cmd.exe (kind cmd), else in /bin/sh (kind shell). */
  windows: boolean;
  history: CommandRow[];
  canRun: boolean;
  onRunScript: () => void;
  runs: Run[];
  start: (id: string, label: string) => void;
  /** The agent is offline: new commands wait in its queue (and say so). */
  agentOffline?: boolean;
}) {
  const [line, setLine] = useState('');
  const [pos, setPos] = useState(-1);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const typed = useRef<string[]>([]);
  // Commands issued here show in the history at once (with their live status), before the
  // agent's page is loaded again.
  const known = new Set(history.map((c) => c.id));
  const rows: CommandRow[] = [
    ...runs.filter((r) => !known.has(r.id)).map((r) => ({
      id: r.id, agent_id: agentId, kind: '', summary: r.label, status: r.status,
      issuer: 'you', issued_at: r.issuedAt ?? null, exit_code: r.exitCode ?? null })),
    ...history,
  ];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const script = line.trim();
    if (!script) return;
    setBusy(true);
    setError(null);
    try {
      const id = await issueCommand(agentId, { kind: windows ? 'cmd' : 'shell', script,
                                               timeout_s: 300 });
      start(id, script);
      typed.current = [script, ...typed.current.filter((s) => s !== script)].slice(0, 100);
      setLine('');
      setPos(-1);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    const h = typed.current.concat(history.map((c) => c.summary ?? '').filter(Boolean));
    if (e.key === 'ArrowUp' && pos + 1 < h.length) {
      e.preventDefault();
      setPos(pos + 1);
      setLine(h[pos + 1]);
    } else if (e.key === 'ArrowDown') {
      e.preventDefault();
      const p = Math.max(-1, pos - 1);
      setPos(p);
      setLine(p < 0 ? '' : h[p]);
    }
  };

  return (
    <section aria-labelledby="console-h">
      <div className="section-head">
        <h2 id="console-h">Command console</h2>
        {canRun && (
          <button type="button" onClick={onRunScript}>
            Run a script…
          </button>
        )}
      </div>
      {canRun ? (
        <form className="console-form" onSubmit={submit}>
          <label htmlFor="console-input" className="prompt">{windows ? 'C:\\>' : '$'}</label>
          <input id="console-input" name="command" autoComplete="off" spellCheck={false}
                 placeholder={windows
                   ? 'command, run with cmd.exe on the agent (↑ for history)'
                   : 'shell command, run with /bin/sh on the agent (↑ for history)'}
                 value={line} onChange={(e) => setLine(e.target.value)} onKeyDown={onKey} />
          <button type="submit" disabled={busy || !line.trim()}>Run</button>
        </form>
      ) : (
        <p className="note">Your role may read but not run commands.</p>
      )}
      <ErrorBox error={error} what="run the command" />
      <div className="runs">
        {runs.map((r) => <RunOutput key={r.id} run={r} agentOffline={agentOffline} />)}
      </div>
      <h3>History</h3>
      {rows.length === 0 ? (
        <p className="empty">No commands yet.</p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Issued</th>
              <th scope="col">Command</th>
              <th scope="col">By</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">Exit</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((c) => (
              <tr key={c.id}>
                <td>{fmtTime(c.issued_at ?? c.received_at)}</td>
                <td>
                  <Link to={`/commands/${encodeURIComponent(c.id)}`}>
                    {c.summary || c.kind}
                  </Link>
                </td>
                <td><Actor actor={c.issuer} name={c.issuer_name} /></td>
                <td><CommandBadge status={c.status} exitCode={c.exit_code} /></td>
                <td className="num">{c.exit_code ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
