// Run one command or script on many agents: one POST /api/v1/commands with their ids, whose
// answer names the batch (docs/api.md, "Command batches"); the batch page then follows each
// agent's run. The selection may mix operating systems, so every script kind is offered.
import { useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import { navigate } from '../lib/router';
import { scriptBody, scriptLanguages } from '../lib/scripts';
import { Dialog, ErrorBox } from './status';

const LANGUAGES = scriptLanguages(false).concat(
  scriptLanguages(true).filter((l) => l.id !== 'exec'));

export function BulkCommandDialog({ agentIds, open, onClose }: {
  agentIds: string[]; open: boolean; onClose: () => void;
}) {
  const [language, setLanguage] = useState(LANGUAGES[0].id);
  const [script, setScript] = useState('');
  const [timeout, setTimeoutS] = useState(300);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const built = scriptBody(language, script, timeout);
    if (!built.body) {
      setError(new Error(built.error));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const ans = await api.post<{ batch_id?: string; commands: { id: string }[] }>(
        '/api/v1/commands', { agent_ids: agentIds, ...built.body });
      onClose();
      if (ans?.batch_id) navigate(`/batches/${encodeURIComponent(ans.batch_id)}`);
      else if (ans?.commands?.[0]) navigate(`/commands/${encodeURIComponent(ans.commands[0].id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  const n = agentIds.length;
  return (
    <Dialog title={`Run on ${n} agent${n === 1 ? '' : 's'}`} open={open} onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>
          Run with
          <select value={language} onChange={(e) => setLanguage(e.target.value)}>
            {LANGUAGES.map((l) => <option key={l.id} value={l.id}>{l.label}</option>)}
          </select>
        </label>
        <label>
          {language === 'exec' ? 'Program and arguments (one per line, the program first)' : 'Command or script'}
          <textarea rows={6} required spellCheck={false} value={script}
                    onChange={(e) => setScript(e.target.value)} />
        </label>
        <label>
          Timeout (seconds)
          <input type="number" min={1} max={86400} value={timeout}
                 onChange={(e) => setTimeoutS(Number(e.target.value))} />
        </label>
        <ErrorBox error={error} what="start the commands" />
        <div className="buttons">
          <button type="submit" className="primary" disabled={busy || !script.trim() || n === 0}>
            {busy ? 'Starting…' : `Run on ${n} agent${n === 1 ? '' : 's'}`}
          </button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}
