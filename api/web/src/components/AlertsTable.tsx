// Alerts with their actions (acknowledge, resolve, suppress), one at a time or for the checked
// ones at once (BulkAlertDialog). Message, hostname, subject and notes are text nodes only.
import { useState } from 'react';
import { api } from '../lib/api';
import { fmtTime } from '../lib/format';
import { useSubmit } from '../lib/hooks';
import { Link } from '../lib/router';
import type { AlertRow } from '../lib/types';
import { Badge, Dialog, ErrorBox } from './status';
import { Actor } from './Names';
import { BulkAlertDialog } from './BulkAlertDialog';

type Action = 'acknowledge' | 'resolve' | 'suppress';

function ActionDialog({ alert, action, onClose, onDone }: {
  alert: AlertRow; action: Action; onClose: () => void; onDone: () => void;
}) {
  const [note, setNote] = useState('');
  const [hours, setHours] = useState(4);
  const { busy, error, submit: submitting } = useSubmit();
  const submit = submitting(async () => {
    const body = action === 'suppress'
      ? { until: new Date(Date.now() + hours * 3600_000).toISOString() }
      : { note };
    await api.post(`/api/v1/alerts/${encodeURIComponent(alert.id)}/${action}`, body,
                   { wait: 5000 });
    onDone();
    onClose();
  });
  const verb = { acknowledge: 'Acknowledge', resolve: 'Resolve', suppress: 'Suppress' }[action];
  return (
    <Dialog title={`${verb} alert`} open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <p>
          <Badge kind={alert.severity}>{alert.severity}</Badge> {alert.hostname ?? alert.agent_id}:{' '}
          {alert.message}
        </p>
        {action === 'suppress' ? (
          <label>
            Suppress for (hours)
            <input type="number" min={1} max={24 * 90} value={hours}
                   onChange={(e) => setHours(Number(e.target.value))} />
          </label>
        ) : (
          <label>
            Note (optional)
            <input value={note} onChange={(e) => setNote(e.target.value)} />
          </label>
        )}
        <ErrorBox error={error} what={`${action} the alert`} />
        <div className="buttons">
          <button type="submit" disabled={busy}>{busy ? 'Sending…' : verb}</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

export function AlertsTable({ alerts, canAct, onChanged, showAgent = true }: {
  alerts: AlertRow[]; canAct: boolean; onChanged: () => void; showAgent?: boolean;
}) {
  const [pending, setPending] = useState<{ alert: AlertRow; action: Action } | null>(null);
  const [checked, setChecked] = useState<Set<string>>(() => new Set());
  const [bulk, setBulk] = useState<'acknowledge' | 'resolve' | null>(null);
  const actionable = alerts.filter((a) => a.status === 'active');
  const picked = actionable.filter((a) => checked.has(a.id));
  const check = (ids: string[], on: boolean) => setChecked((old) => {
    const next = new Set(old);
    for (const id of ids) {
      if (on) next.add(id);
      else next.delete(id);
    }
    return next;
  });
  return (
    <>
      {canAct && actionable.length > 0 && (
        <div className="bulk-bar" role="group" aria-label="Checked alerts">
          <span role="status" aria-live="polite">
            {picked.length ? `${picked.length} checked` : 'None checked'}
          </span>
          <button type="button" disabled={picked.length === 0} onClick={() => setBulk('acknowledge')}>
            Acknowledge checked
          </button>
          <button type="button" disabled={picked.length === 0} onClick={() => setBulk('resolve')}>
            Resolve checked
          </button>
        </div>
      )}
      <table className="grid alerts">
        <thead>
          <tr>
            {canAct && (
              <th scope="col" className="col-select">
                <input type="checkbox" aria-label="Check every active alert"
                       disabled={actionable.length === 0}
                       checked={actionable.length > 0 && picked.length === actionable.length}
                       onChange={(e) => check(actionable.map((a) => a.id), e.target.checked)} />
              </th>
            )}
            <th scope="col">Severity</th>
            {showAgent && <th scope="col">Agent</th>}
            <th scope="col">Rule</th>
            <th scope="col">Message</th>
            <th scope="col">Raised</th>
            <th scope="col">State</th>
            {canAct && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id} data-alert-id={a.id}>
              {canAct && (
                <td className="col-select">
                  {a.status === 'active' && (
                    <input type="checkbox" aria-label={`Check alert ${a.rule} on ${a.hostname || a.agent_id}`}
                           checked={checked.has(a.id)}
                           onChange={(e) => check([a.id], e.target.checked)} />
                  )}
                </td>
              )}
              <td><Badge kind={a.severity}>{a.severity}</Badge></td>
              {showAgent && (
                <td>
                  <Link to={`/agents/${encodeURIComponent(a.agent_id)}`}>
                    {a.hostname || a.agent_id}
                  </Link>
                </td>
              )}
              <td>{a.subject ? `${a.rule} (${a.subject})` : a.rule}</td>
              <td>{a.message}</td>
              <td>{fmtTime(a.raised_at)}</td>
              <td className="alert-state">
                {a.status === 'resolved'
                  ? <>{`resolved ${fmtTime(a.resolved_at)} by `}<Actor actor={a.resolved_by ?? '?'} name={a.resolved_by_name} /></>
                  : a.acknowledged_at
                    ? <>{'acknowledged by '}<Actor actor={a.acknowledged_by ?? '?'} name={a.acknowledged_by_name} /></>
                    : 'new'}
                {a.suppressed_until && Date.parse(a.suppressed_until) > Date.now()
                  ? `, suppressed until ${fmtTime(a.suppressed_until)}` : ''}
                {a.ack_note && <q className="alert-note">{a.ack_note}</q>}
              </td>
              {canAct && (
                <td className="actions">
                  {a.status === 'active' && !a.acknowledged_at && (
                    <button type="button" onClick={() => setPending({ alert: a, action: 'acknowledge' })}>
                      Acknowledge
                    </button>
                  )}
                  {a.status === 'active' && (
                    <>
                      <button type="button" onClick={() => setPending({ alert: a, action: 'resolve' })}>
                        Resolve
                      </button>
                      <button type="button" onClick={() => setPending({ alert: a, action: 'suppress' })}>
                        Suppress
                      </button>
                    </>
                  )}
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {pending && (
        <ActionDialog alert={pending.alert} action={pending.action}
                      onClose={() => setPending(null)} onDone={onChanged} />
      )}
      {bulk && (
        <BulkAlertDialog alerts={picked} action={bulk} onClose={() => setBulk(null)}
                         onDone={() => { setChecked(new Set()); onChanged(); }} />
      )}
    </>
  );
}
