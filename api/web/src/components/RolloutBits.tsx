// Small pieces of the rollout views: a ring's progress bar and a halt button.
import { useState } from 'react';
import { api } from '../lib/api';
import { progressOf, type StepCounts } from '../lib/rollouts';
import { ErrorBox } from './status';

/** Healthy, in flight and failed shares as one bar; the numbers as text beside it. */
export function ProgressBar({ counts, label }: { counts: StepCounts; label: string }) {
  const p = progressOf(counts);
  const text = `${p.healthy} healthy, ${p.inFlight} updating, ${p.failed} failed, ` +
               `${p.pending} pending of ${p.total}`;
  return (
    <div className="ring-progress">
      <div className="bar" role="img" aria-label={`${label}: ${text}`} title={text}>
        <span className="bar-ok" style={{ width: `${p.healthyPct}%` }} />
        <span className="bar-busy" style={{ width: `${p.inFlightPct}%` }} />
        <span className="bar-bad" style={{ width: `${p.failedPct}%` }} />
      </div>
      <span className="small muted">{text}</span>
    </div>
  );
}

/** POST /api/v1/rollouts/{id}/halt after a confirmation; admins only (the caller checks). */
export function HaltButton({ id, version, onDone }: { id: string; version: string;
                                                      onDone: () => void }) {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const halt = async () => {
    if (!window.confirm(`Halt the rollout of ${version}? No further ring will start.`)) return;
    setError(null);
    setBusy(true);
    try {
      await api.post(`/api/v1/rollouts/${encodeURIComponent(id)}/halt`, {}, { wait: 5000 });
      onDone();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="danger" disabled={busy} onClick={() => void halt()}>
        Halt
      </button>
      <ErrorBox error={error} what="halt the rollout" />
    </>
  );
}
