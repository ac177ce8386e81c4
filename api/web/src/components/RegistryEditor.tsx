// The registry editor of a Windows agent: browse a hive's keys, read values, set, create and
// delete values and keys. Every step is a `registry` command (an intent, audited like any
// command); what is shown is the agent's own answer, read from the command's output once it
// has finished (docs/agent.md, "Registry editor"). Every string from the agent is a text node.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import { Link } from '../lib/router';
import {
  childKey, cleanKey, dataSummary, dataToText, HIVES, parentKey, parseListing, parseValue,
  registryBody, textToData, VALUE_TYPES, waitForAnswer,
  type CommandState, type RegListing, type RegOp, type RegValue, type ValueType,
} from '../lib/registry';
import { issueCommand } from './CommandConsole';
import { Dialog, Empty, ErrorBox } from './status';

interface Step {
  commandId?: string;
  what: string;
  state: 'waiting' | 'done' | 'error';
  result?: string;  // what the agent answered, in words
  error?: unknown;
}

const MAX_SHOWN = 2000;

/** Sends one registry command and waits for the agent's answer (its stdout). */
async function runRegistry(agentId: string, body: Record<string, unknown>,
                           onIssued: (id: string) => void, signal: AbortSignal): Promise<string> {
  const id = await issueCommand(agentId, { ...body, timeout_s: 60 });
  onIssued(id);
  return waitForAnswer(
    () => api.get<CommandState>(`/api/v1/commands/${encodeURIComponent(id)}`, undefined, signal),
    { intervalMs: 1000, timeoutMs: 120_000, signal });
}

function ValueDialog({ initial, onClose, onSave }: {
  initial: { name: string; type: ValueType; text: string; isNew: boolean };
  onClose: () => void;
  onSave: (name: string, type: ValueType, data: unknown) => void;
}) {
  const [name, setName] = useState(initial.name);
  const [type, setType] = useState<ValueType>(initial.type);
  const [text, setText] = useState(initial.text);
  const [error, setError] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = textToData(type, text);
    if (parsed.error) {
      setError(parsed.error);
      return;
    }
    onSave(name, type, parsed.data);
  };
  const multiline = type === 'multi_string' || type === 'binary' || text.includes('\n');
  return (
    <Dialog title={initial.isNew ? 'New value' : `Edit value ${initial.name || '(Default)'}`}
            open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>
          Name (empty: the key's default value)
          <input value={name} disabled={!initial.isNew} spellCheck={false}
                 onChange={(e) => setName(e.target.value)} />
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value as ValueType)}>
            {VALUE_TYPES.map((t) => <option key={t} value={t}>{t}</option>)}
          </select>
        </label>
        <label>
          {type === 'multi_string' ? 'Data (one string per line)'
            : type === 'binary' ? 'Data (hex bytes, e.g. 01 ff 2a)'
              : type === 'dword' || type === 'qword' ? 'Data (decimal, or hex with 0x)' : 'Data'}
          {multiline ? (
            <textarea rows={6} spellCheck={false} value={text}
                      onChange={(e) => setText(e.target.value)} />
          ) : (
            <input spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
          )}
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <div className="buttons">
          <button type="submit">Save</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

export function RegistryEditor({ agentId, canEdit }: { agentId: string; canEdit: boolean }) {
  const [hive, setHive] = useState<string>('HKLM');
  const [key, setKey] = useState('');
  const [typed, setTyped] = useState('');
  const [listing, setListing] = useState<RegListing | null>(null);
  const [step, setStep] = useState<Step | null>(null);
  const [changes, setChanges] = useState<Step[]>([]);
  const [editing, setEditing] =
    useState<{ name: string; type: ValueType; text: string; isNew: boolean } | null>(null);
  const [newKey, setNewKey] = useState('');
  const ctl = useRef<AbortController | null>(null);
  useEffect(() => () => ctl.current?.abort(), []);

  const busy = step?.state === 'waiting';

  /**
   * Runs one operation: `interpret` reads the agent's answer (and may put it in words), then
   * `next` follows (the refreshed listing after a change). Changes are kept in `changes`, with
   * the agent's answer or error, so a following listing does not hide them.
   */
  const run = async (what: string, body: Record<string, unknown>,
                     interpret: (answer: string) => string | void, next?: () => void) => {
    ctl.current?.abort();
    const c = new AbortController();
    ctl.current = c;
    let cur: Step = { what, state: 'waiting' };
    setStep(cur);
    const write = body.op !== 'list' && body.op !== 'get';
    try {
      const answer = await runRegistry(agentId, body, (id) => {
        cur = { ...cur, commandId: id };
        setStep(cur);
      }, c.signal);
      if (c.signal.aborted) return;
      cur = { ...cur, state: 'done', result: interpret(answer) ?? undefined };
    } catch (e) {
      if (c.signal.aborted) return;
      cur = { ...cur, state: 'error', error: e };
    }
    setStep(cur);
    if (write) setChanges((old) => [cur, ...old].slice(0, 5));
    if (cur.state === 'done') next?.();
  };

  const browse = (h: string, k: string) => {
    setHive(h);
    setKey(k);
    setTyped(k);
    void run(`list ${h}${k ? `\\${k}` : ''}`, registryBody('list', h, k), (answer) =>
      setListing(parseListing(answer)));
  };
  const refresh = () => browse(hive, key);

  const save = (name: string, type: ValueType, data: unknown) => {
    setEditing(null);
    void run(`set ${hive}\\${childKey(key, name || '(Default)')}`,
             registryBody('set', hive, key, name, { type, data }), (answer) => {
      const back = parseValue(answer);  // the value as the agent read it back
      return `${back.name || '(Default)'} = ${back.type} ${dataSummary(back)}`;
    }, refresh);
  };
  const edit = (v: RegValue) => {
    const type = (VALUE_TYPES as readonly string[]).includes(v.type) ? v.type as ValueType : 'binary';
    if (!v.data_truncated) {
      setEditing({ name: v.name, type, text: dataToText(v), isNew: false });
      return;
    }
    // The listing holds only the start of a long value: read all of it first.
    void run(`get ${hive}\\${childKey(key, v.name || '(Default)')}`,
             registryBody('get', hive, key, v.name), (answer) =>
      setEditing({ name: v.name, type, text: dataToText(parseValue(answer)), isNew: false }));
  };
  const remove = (op: RegOp, name: string) => {
    const target = op === 'delete_key' ? `${hive}\\${key}` : `${hive}\\${childKey(key, name || '(Default)')}`;
    const ask = op === 'delete_key'
      ? `Delete the key ${target} with every value and key below it?`
      : `Delete the value ${target}?`;
    if (!window.confirm(ask)) return;
    void run(`${op} ${target}`, registryBody(op, hive, key, name), () => 'done',
             () => (op === 'delete_key' ? browse(hive, parentKey(key)) : refresh()));
  };
  const createKey = (e: FormEvent) => {
    e.preventDefault();
    const sub = cleanKey(newKey);
    if (!sub) return;
    const full = childKey(key, sub);
    setNewKey('');
    void run(`create_key ${hive}\\${full}`, registryBody('create_key', hive, full), () => 'done',
             () => browse(hive, full));
  };

  const parts = key ? key.split('\\') : [];
  return (
    <section aria-labelledby="registry-h" className="registry">
      <div className="section-head">
        <h2 id="registry-h">Registry</h2>
      </div>
      <form className="toolbar" onSubmit={(e) => { e.preventDefault(); browse(hive, cleanKey(typed)); }}>
        <label>
          Hive
          <select value={hive} onChange={(e) => browse(e.target.value, '')} disabled={busy}>
            {HIVES.map((h) => <option key={h} value={h}>{h}</option>)}
          </select>
        </label>
        <label className="grow">
          Key
          <input value={typed} spellCheck={false} placeholder="Software\Vendor"
                 onChange={(e) => setTyped(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>{listing ? 'Go' : 'Open'}</button>
        {listing && <button type="button" onClick={refresh} disabled={busy}>Refresh</button>}
      </form>

      {step && (
        <p className="muted small" role="status" aria-live="polite">
          {step.state === 'waiting' ? 'Waiting for the agent: ' : step.state === 'done' ? 'Done: ' : 'Failed: '}
          <code>{step.what}</code>
          {step.result && <>{' → '}<code>{step.result}</code></>}
          {step.commandId && (
            <>{' '}<Link to={`/commands/${encodeURIComponent(step.commandId)}`}>command</Link></>
          )}
        </p>
      )}
      {step?.state === 'error' && <ErrorBox error={step.error} what="run the registry command" />}
      {changes.length > 0 && (
        <details open className="registry-changes">
          <summary>Changes, as the agent answered them</summary>
          <ul>
            {changes.map((ch, i) => (
              <li key={`${ch.commandId ?? ''}-${i}`}>
                <code>{ch.what}</code>
                {ch.state === 'done'
                  ? <>{': '}<code>{ch.result ?? 'done'}</code></>
                  : <>{': failed: '}<span className="stderr">{ch.error instanceof Error ? ch.error.message : String(ch.error)}</span></>}
                {ch.commandId && (
                  <>{' '}<Link to={`/commands/${encodeURIComponent(ch.commandId)}`}>command</Link></>
                )}
              </li>
            ))}
          </ul>
        </details>
      )}

      {!listing ? (
        <Empty>Choose a hive and open it: every step asks the agent, as a command.</Empty>
      ) : (
        <>
          <p className="crumbs registry-path">
            <button type="button" className="link" onClick={() => browse(listing.hive, '')}
                    disabled={busy}>{listing.hive}</button>
            {parts.map((p, i) => (
              <span key={i}>
                {'\\'}
                <button type="button" className="link" disabled={busy}
                        onClick={() => browse(hive, parts.slice(0, i + 1).join('\\'))}>{p}</button>
              </span>
            ))}
          </p>
          {listing.truncated && (
            <p className="note">The key holds more entries than one answer carries; not all are shown.</p>
          )}
          <div className="registry-panes">
            <div>
              <h3>Keys</h3>
              {key && (
                <button type="button" className="link" disabled={busy}
                        onClick={() => browse(hive, parentKey(key))}>.. (up)</button>
              )}
              {listing.subkeys.length === 0 ? <Empty>No subkeys.</Empty> : (
                <ul className="registry-keys">
                  {listing.subkeys.slice(0, MAX_SHOWN).map((s) => (
                    <li key={s}>
                      <button type="button" className="link" disabled={busy}
                              onClick={() => browse(hive, childKey(key, s))}>{s}</button>
                    </li>
                  ))}
                </ul>
              )}
              {listing.subkeys.length > MAX_SHOWN && (
                <p className="muted small">
                  {`The first ${MAX_SHOWN} of ${listing.subkeys.length} keys; type a path above to open another.`}
                </p>
              )}
              {canEdit && (
                <form className="toolbar" onSubmit={createKey}>
                  <label>
                    New key
                    <input value={newKey} spellCheck={false} onChange={(e) => setNewKey(e.target.value)} />
                  </label>
                  <button type="submit" disabled={busy || !cleanKey(newKey)}>Create</button>
                </form>
              )}
              {canEdit && key && (
                <button type="button" className="danger" disabled={busy}
                        onClick={() => remove('delete_key', '')}>Delete this key…</button>
              )}
            </div>
            <div>
              <div className="section-head">
                <h3>Values</h3>
                {canEdit && (
                  <button type="button" disabled={busy}
                          onClick={() => setEditing({ name: '', type: 'string', text: '', isNew: true })}>
                    New value…
                  </button>
                )}
              </div>
              {listing.values.length === 0 ? <Empty>No values.</Empty> : (
                <table className="grid">
                  <thead>
                    <tr>
                      <th scope="col">Name</th>
                      <th scope="col">Type</th>
                      <th scope="col">Data</th>
                      {canEdit && <th scope="col"><span className="skip">Actions</span></th>}
                    </tr>
                  </thead>
                  <tbody>
                    {listing.values.map((v) => (
                      <tr key={v.name}>
                        <td>{v.name || <span className="muted">(Default)</span>}</td>
                        <td>{v.type}{v.raw_type !== undefined ? ` (${v.raw_type})` : ''}</td>
                        <td className="registry-data">{dataSummary(v)}</td>
                        {canEdit && (
                          <td className="buttons">
                            <button type="button" className="small" disabled={busy}
                                    onClick={() => edit(v)}>Edit</button>
                            <button type="button" className="small danger" disabled={busy}
                                    onClick={() => remove('delete_value', v.name)}>Delete</button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </div>
          </div>
        </>
      )}
      {editing && <ValueDialog initial={editing} onClose={() => setEditing(null)} onSave={save} />}
    </section>
  );
}
