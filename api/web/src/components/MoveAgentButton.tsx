// Move an agent to another site of its client (admins): POST /api/v1/agents/{id}/move, an
// AgentMoved event the projector folds and audits. Sites of other clients are not offered (an
// agent never changes client: it would need a new enrollment).
import { useState } from 'react';
import { api, getAll } from '../lib/api';
import { useAsync, useSubmit } from '../lib/hooks';
import type { AgentRow, Client } from '../lib/types';
import { Dialog, ErrorBox } from './status';

export function MoveAgentButton({ agent, onDone }: { agent: AgentRow; onDone: () => void }) {
  const [open, setOpen] = useState(false);
  if (!agent.client_id || !agent.site_id) return null;
  return (
    <>
      <button type="button" onClick={() => setOpen(true)}>Move to site…</button>
      {open && <MoveDialog agent={agent} onClose={() => setOpen(false)} onDone={onDone} />}
    </>
  );
}

function MoveDialog({ agent, onClose, onDone }: {
  agent: AgentRow; onClose: () => void; onDone: () => void;
}) {
  const clients = useAsync((s) => getAll<Client>('/api/v1/clients', {}, 5000, s), []);
  const sites = (clients.data ?? []).find((c) => c.id === agent.client_id)?.sites
    .filter((s) => s.id !== agent.site_id) ?? [];
  const [site, setSite] = useState('');
  const { busy, error, submit: submitting } = useSubmit();
  const submit = submitting(async () => {
    await api.post(`/api/v1/agents/${encodeURIComponent(agent.id)}/move`, { site_id: site },
                   { wait: 5000 });
    onDone();
    onClose();
  });
  return (
    <Dialog title="Move agent to another site" open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <p>
          {`${agent.hostname || agent.id} is in ${agent.client_name ?? '?'} / ${agent.site_name ?? '?'}. ` +
           'The site\'s policies apply from the move on; the move is audited.'}
        </p>
        <label>
          New site
          <select value={site} required onChange={(e) => setSite(e.target.value)}>
            <option value="">choose a site…</option>
            {sites.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
          </select>
        </label>
        {clients.data && sites.length === 0 && <p className="muted">The client has no other site.</p>}
        <ErrorBox error={error ?? clients.error} what="move the agent" />
        <div className="buttons">
          <button type="submit" disabled={busy || !site}>{busy ? 'Moving…' : 'Move'}</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}
