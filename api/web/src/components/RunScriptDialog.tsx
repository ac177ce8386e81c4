// Run a script on an agent: interpreter, script text, timeout. The command's output then shows
// in the console like a typed command.
import { useState, type FormEvent } from 'react';
import { Dialog, ErrorBox } from './status';
import { issueCommand } from './CommandConsole';

export function RunScriptDialog({ agentId, open, onClose, onStarted }: {
  agentId: string;
  open: boolean;
  onClose: () => void;
  onStarted: (id: string, label: string) => void;
}) {
  const [interpreter, setInterpreter] = useState('sh');
  const [script, setScript] = useState('');
  const [timeout, setTimeoutS] = useState(300);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { kind: 'shell', script, timeout_s: timeout };
      if (interpreter !== 'sh') body.interpreter = interpreter;
      const id = await issueCommand(agentId, body);
      const first = script.split('\n').find((l) => l.trim()) ?? '';
      onStarted(id, `[${interpreter}] ${first}${script.includes('\n') ? ' …' : ''}`);
      setScript('');
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="Run a script" open={open} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>
          Interpreter
          <select value={interpreter} onChange={(e) => setInterpreter(e.target.value)}>
            <option value="sh">/bin/sh</option>
            <option value="bash">bash</option>
            <option value="python3">python3</option>
            <option value="powershell">powershell</option>
          </select>
        </label>
        <label>
          Script
          <textarea rows={10} required spellCheck={false} value={script}
                    onChange={(e) => setScript(e.target.value)} />
        </label>
        <label>
          Timeout (seconds)
          <input type="number" min={1} max={86400} value={timeout}
                 onChange={(e) => setTimeoutS(Number(e.target.value))} />
        </label>
        <ErrorBox error={error} what="start the script" />
        <div className="buttons">
          <button type="submit" disabled={busy || !script.trim()}>
            {busy ? 'Starting…' : 'Run'}
          </button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}
