// Run a script on an agent: its kind (cmd.exe and PowerShell on Windows agents, /bin/sh and
// other interpreters elsewhere, a program without a shell on both), script text, timeout. The
// command's output then shows in the console like a typed command.
import { useState, type FormEvent } from 'react';
import { Dialog, ErrorBox } from './status';
import { issueCommand } from './CommandConsole';
import { scriptBody, scriptLanguages } from '../lib/scripts';

export function RunScriptDialog({ agentId, windows, open, onClose, onStarted }: {
  agentId: string;
  windows: boolean;
  open: boolean;
  onClose: () => void;
  onStarted: (id: string, label: string) => void;
}) {
  const languages = scriptLanguages(windows);
  const [language, setLanguage] = useState(languages[0].id);
  const [script, setScript] = useState('');
  const [timeout, setTimeoutS] = useState(300);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const current = languages.find((l) => l.id === language) ?? languages[0];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const built = scriptBody(current.id, script, timeout);
    if (!built.body) {
      setError(new Error(built.error));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const id = await issueCommand(agentId, built.body);
      const first = script.split('\n').find((l) => l.trim()) ?? '';
      onStarted(id, `[${current.label}] ${first}${script.trim().includes('\n') ? ' …' : ''}`);
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
          Run with
          <select value={current.id} onChange={(e) => setLanguage(e.target.value)}>
            {languages.map((l) => <option key={l.id} value={l.id}>{l.label}</option>)}
          </select>
        </label>
        <label>
          {current.id === 'exec' ? 'Program and arguments (one per line, the program first)' : 'Script'}
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
