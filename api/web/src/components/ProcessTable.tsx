// An agent's last reported processes (the inventory's list): sort by CPU, memory or name, search
// by name, user or command line, and a detail panel for one process, from which a technician
// may stop it (a kill_process command, confirmed first). Every value comes from the agent: text
// nodes only.
import { useMemo, useState } from 'react';
import { fmtBytes, fmtPct, fmtValue } from '../lib/format';
import { Link } from '../lib/router';
import type { ProcessRow } from '../lib/types';
import { processMemory, sortProcesses, type ProcessSort } from '../lib/bulk';
import { issueCommand } from './CommandConsole';
import { Dialog, Empty, ErrorBox } from './status';

type SortKey = ProcessSort;
const SHOWN = 100;
const memOf = processMemory;

const COLS: { key: SortKey | null; label: string; num?: boolean }[] = [
  { key: 'pid', label: 'PID', num: true },
  { key: 'name', label: 'Name' },
  { key: null, label: 'User' },
  { key: 'cpu', label: 'CPU', num: true },
  { key: 'memory', label: 'Memory', num: true },
  { key: null, label: 'Command line' },
];

export function ProcessTable({ rows, agentId, canKill = false }: {
  rows: ProcessRow[] | null; agentId?: string; canKill?: boolean;
}) {
  const [key, setKey] = useState<SortKey>('cpu');
  const [desc, setDesc] = useState(true);
  const [q, setQ] = useState('');
  const [open, setOpen] = useState<ProcessRow | null>(null);
  const sorted = useMemo(() => sortProcesses(rows ?? [], key, desc, q), [rows, key, desc, q]);
  if (!rows || rows.length === 0) return <Empty>No process list reported yet.</Empty>;
  const sortBy = (k: SortKey) => {
    if (k === key) setDesc(!desc);
    else {
      setKey(k);
      setDesc(k === 'cpu' || k === 'memory');  // biggest first; names and pids ascending
    }
  };
  const aria = (k: SortKey | null) => (k !== key ? 'none' : desc ? 'descending' : 'ascending');
  return (
    <div className="processes">
      <div className="toolbar" role="search">
        <label>
          Search processes
          <input type="search" value={q} placeholder="name, user, command line or pid"
                 onChange={(e) => setQ(e.target.value)} />
        </label>
        <span className="count" role="status" aria-live="polite">
          {`${sorted.length} of ${rows.length} processes${sorted.length > SHOWN ? `, first ${SHOWN} shown` : ''}`}
        </span>
      </div>
      <table className="grid process-table">
        <thead>
          <tr>
            {COLS.map((c) => (
              <th key={c.label} scope="col" className={c.num ? 'num' : undefined} aria-sort={aria(c.key)}>
                {c.key ? (
                  <button type="button" className="sort" onClick={() => sortBy(c.key!)}>
                    {c.label}
                    <span aria-hidden="true">{c.key === key ? (desc ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                ) : c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.slice(0, SHOWN).map((p, i) => (
            <tr key={`${p.pid ?? 'x'}-${i}`} data-pid={p.pid} data-cpu={p.cpu_percent ?? 0} data-rss={memOf(p)}>
              <td className="num">{fmtValue(p.pid)}</td>
              <td>
                <button type="button" className="link" onClick={() => setOpen(p)}
                        aria-label={`Details of ${fmtValue(p.name)} (pid ${fmtValue(p.pid)})`}>
                  {fmtValue(p.name)}
                </button>
              </td>
              <td>{fmtValue(p.user)}</td>
              <td className="num">{fmtPct(p.cpu_percent)}</td>
              <td className="num">{fmtBytes(memOf(p))}</td>
              <td className="cmdline">{fmtValue(p.cmdline)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {sorted.length === 0 && <Empty>No process matches.</Empty>}
      {open && (
        <ProcessDetail p={open} onClose={() => setOpen(null)}
                       agentId={canKill ? agentId : undefined} />
      )}
    </div>
  );
}

function ProcessDetail({ p, onClose, agentId }: {
  p: ProcessRow; onClose: () => void; agentId?: string;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [sent, setSent] = useState<string | null>(null);
  const kill = async () => {
    setBusy(true);
    setError(null);
    try {
      setSent(await issueCommand(agentId!, { kind: 'kill_process', pid: p.pid, name: p.name }));
      setConfirming(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  // Any further field the agent reports (a start time, a parent) is listed too, as text.
  const known = new Set(['pid', 'name', 'user', 'cpu_percent', 'rss_bytes', 'memory_bytes', 'cmdline']);
  const extra = Object.entries(p).filter(([k]) => !known.has(k));
  return (
    <aside className="process-detail" aria-label={`Process ${fmtValue(p.pid)}`}>
      <div className="dialog-head">
        <h3>{`${fmtValue(p.name)} (pid ${fmtValue(p.pid)})`}</h3>
        <button type="button" className="link" onClick={onClose} aria-label="Close the process details">✕</button>
      </div>
      <dl className="kv">
        <div><dt>PID</dt><dd>{fmtValue(p.pid)}</dd></div>
        <div><dt>User</dt><dd>{fmtValue(p.user)}</dd></div>
        <div><dt>CPU</dt><dd>{fmtPct(p.cpu_percent)}</dd></div>
        <div><dt>Memory (resident)</dt><dd>{fmtBytes(memOf(p))}</dd></div>
        <div>
          <dt>Started</dt>
          <dd>{p.start_time != null ? fmtValue(p.start_time) : 'not reported by the agent'}</dd>
        </div>
        {extra.filter(([k]) => k !== 'start_time').map(([k, v]) => (
          <div key={k}><dt>{k}</dt><dd>{fmtValue(v)}</dd></div>
        ))}
      </dl>
      <h4>Command line</h4>
      <pre className="output">{fmtValue(p.cmdline)}</pre>
      {agentId && p.pid != null && p.name && (
        <div className="buttons">
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Stop process…
          </button>
          {sent && (
            <span role="status">
              Stop requested: <Link to={`/commands/${encodeURIComponent(sent)}`}>follow the command</Link>
            </span>
          )}
        </div>
      )}
      <Dialog title="Stop this process?" open={confirming} onClose={() => setConfirming(false)}>
        <div className="stack">
          <p>
            {`Process ${fmtValue(p.pid)} (${fmtValue(p.name)}, user ${fmtValue(p.user)}) is stopped ` +
             'on the agent: SIGTERM, then SIGKILL after 5 s on Linux; TerminateProcess on Windows. ' +
             'If the pid now belongs to another program, nothing is stopped.'}
          </p>
          <ErrorBox error={error} what="stop the process" />
          <div className="buttons">
            <button type="button" className="danger" disabled={busy} onClick={() => void kill()}>
              {busy ? 'Sending…' : 'Stop the process'}
            </button>
            <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
          </div>
        </div>
      </Dialog>
    </aside>
  );
}
