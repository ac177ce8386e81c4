// Acknowledge or resolve many alerts with one note: one POST /api/v1/alerts/acknowledge | resolve
// naming them all (one event each on the server).
import { useState } from 'react';
import { api } from '../lib/api';
import { useSubmit } from '../lib/hooks';
import type { AlertRow } from '../lib/types';
import { Dialog, ErrorBox } from './status';

export function BulkAlertDialog({ alerts, action, onClose, onDone }: {
  alerts: AlertRow[]; action: 'acknowledge' | 'resolve'; onClose: () => void; onDone: () => void;
}) {
  const [note, setNote] = useState('');
  const { busy, error, submit: submitting } = useSubmit();
  const verb = action === 'acknowledge' ? 'Acknowledge' : 'Resolve';
  const n = alerts.length;
  const submit = submitting(async () => {
    await api.post(`/api/v1/alerts/${action}`, { ids: alerts.map((a) => a.id), note },
                   { wait: 5000 });
    onDone();
    onClose();
  });
  return (
    <Dialog title={`${verb} ${n} alert${n === 1 ? '' : 's'}`} open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <ul className="bulk-list">
          {alerts.slice(0, 20).map((a) => (
            <li key={a.id}>{`${a.hostname || a.agent_id}: ${a.message}`}</li>
          ))}
          {n > 20 && <li>{`… and ${n - 20} more`}</li>}
        </ul>
        <label>
          Note (optional, shown on each alert)
          <input value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        <ErrorBox error={error} what={`${action} the alerts`} />
        <div className="buttons">
          <button type="submit" disabled={busy || n === 0}>{busy ? 'Sending…' : `${verb} ${n}`}</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}
