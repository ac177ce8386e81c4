// The agents table's selection and its bulk actions: run a command or script on every selected
// agent (a batch), select every agent matching the filters (up to the API's 1,000 targets).
import { useCallback, useState } from 'react';
import { getAll, type Query } from '../lib/api';
import type { AgentRow } from '../lib/types';
import { BulkCommandDialog } from './BulkCommandDialog';
import { ErrorBox } from './status';

/** POST /api/v1/commands takes at most this many agents (api/intents/command_request.h). */
export const MAX_BULK = 1000;

export interface Selection {
  ids: Set<string>;
  has: (id: string) => boolean;
  set: (ids: string[], on: boolean) => void;
  replace: (ids: string[]) => void;
}

export function useSelection(): Selection {
  const [ids, setIds] = useState<Set<string>>(() => new Set());
  const set = useCallback((list: string[], on: boolean) => setIds((old) => {
    const next = new Set(old);
    for (const id of list) {
      if (on) next.add(id);
      else next.delete(id);
    }
    return next;
  }), []);
  const replace = useCallback((list: string[]) => setIds(new Set(list)), []);
  return { ids, has: (id) => ids.has(id), set, replace };
}

export function BulkBar({ selection, rows, filters }: {
  selection: Selection; rows: AgentRow[]; filters: Query;
}) {
  const [running, setRunning] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const n = selection.ids.size;
  const selectMatching = async () => {
    setBusy(true);
    setError(null);
    try {
      const all = await getAll<AgentRow>('/api/v1/agents', filters, MAX_BULK);
      selection.replace(all.filter((a) => a.status !== 'revoked').slice(0, MAX_BULK).map((a) => a.id));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="bulk-bar" role="group" aria-label="Selected agents">
      <span role="status" aria-live="polite">{n ? `${n} selected` : 'None selected'}</span>
      <button type="button" onClick={() => void selectMatching()} disabled={busy || rows.length === 0}>
        {busy ? 'Selecting…' : 'Select all matching the filter'}
      </button>
      {n > 0 && (
        <>
          <button type="button" className="primary" disabled={n > MAX_BULK}
                  onClick={() => setRunning(true)}>
            Run command…
          </button>
          <button type="button" onClick={() => selection.replace([])}>Clear selection</button>
        </>
      )}
      {n > MAX_BULK && <span className="muted">{`at most ${MAX_BULK} agents at once`}</span>}
      <ErrorBox error={error} what="select the agents" />
      {running && (
        <BulkCommandDialog agentIds={[...selection.ids]} open onClose={() => setRunning(false)} />
      )}
    </div>
  );
}
