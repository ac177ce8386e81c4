// Releases & rollouts: the published builds, the rollouts with their progress, halting, and a
// form to create a rollout (admins). docs/updates.md tells how rollouts move from ring to ring.
import { useState, type FormEvent } from 'react';
import { api, getAll } from '../lib/api';
import { useAsync, useInterval } from '../lib/hooks';
import { can, useAuth } from '../lib/auth';
import { fmtBytes, fmtTime } from '../lib/format';
import { Link } from '../lib/router';
import { rolloutBody, type Release, type RingForm, type Rollout,
         type RolloutForm } from '../lib/rollouts';
import type { Client } from '../lib/types';
import { Badge, Dialog, Empty, ErrorBox, Loading } from '../components/status';
import { HaltButton, ProgressBar } from '../components/RolloutBits';
import { EntityRef } from '../components/Names';

const STATUS_BADGE: Record<string, string> = { created: 'info', running: 'warning',
                                               halted: 'critical', completed: 'online' };

export function statusBadge(status: string) {
  return <Badge kind={STATUS_BADGE[status] ?? 'unknown'}>{status}</Badge>;
}

function NewRolloutDialog({ releases, onClose, onDone }: { releases: Release[];
                                                          onClose: () => void;
                                                          onDone: () => void }) {
  const versions = [...new Set(releases.map((r) => r.version))];
  const clients = useAsync((s) => getAll<Client>('/api/v1/clients', {}, 5000, s), []);
  const [f, setF] = useState<RolloutForm>({
    version: versions[0] ?? '', scope: 'global', scopeId: '', advance: '100', halt: '20',
    rings: [{ name: 'canary', kind: 'agents', agents: '', percent: '' },
            { name: 'all', kind: 'percent', agents: '', percent: '100' }],
  });
  const [error, setError] = useState<unknown>(null);
  const [problem, setProblem] = useState('');
  const setRing = (i: number, change: Partial<RingForm>) =>
    setF({ ...f, rings: f.rings.map((r, j) => (j === i ? { ...r, ...change } : r)) });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const built = rolloutBody(f);
    if ('error' in built) {
      setProblem(built.error);
      return;
    }
    setProblem('');
    try {
      await api.post('/api/v1/rollouts', built.body, { wait: 5000 });
      onDone();
      onClose();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <Dialog title="New rollout" open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>
          Version
          <select value={f.version} onChange={(e) => setF({ ...f, version: e.target.value })}>
            {versions.map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
        </label>
        <label>
          Scope
          <select value={f.scope === 'global' ? 'global:' : `${f.scope}:${f.scopeId}`}
                  onChange={(e) => {
                    const [scope, id] = e.target.value.split(':');
                    setF({ ...f, scope: scope as RolloutForm['scope'], scopeId: id ?? '' });
                  }}>
            <option value="global:">every agent (global)</option>
            {(clients.data ?? []).map((c) => (
              <optgroup key={c.id} label={c.name}>
                <option value={`client:${c.id}`}>{`client ${c.name}`}</option>
                {c.sites.map((st) => (
                  <option key={st.id} value={`site:${st.id}`}>{`site ${c.name} / ${st.name}`}</option>
                ))}
              </optgroup>
            ))}
          </select>
        </label>
        <fieldset>
          <legend>Rings, in order</legend>
          {f.rings.map((r, i) => (
            <div key={i} className="ring-row">
              <label>Name<input value={r.name} onChange={(e) => setRing(i, { name: e.target.value })} /></label>
              <label>
                Kind
                <select value={r.kind} onChange={(e) => setRing(i, { kind: e.target.value as RingForm['kind'] })}>
                  <option value="agents">named agents (canary)</option>
                  <option value="percent">share of the agents with auto_update on</option>
                </select>
              </label>
              {r.kind === 'agents' ? (
                <label>Agent ids<input value={r.agents} placeholder="id, id, …"
                                       onChange={(e) => setRing(i, { agents: e.target.value })} /></label>
              ) : (
                <label>Percent<input inputMode="numeric" value={r.percent}
                                     onChange={(e) => setRing(i, { percent: e.target.value })} /></label>
              )}
              <button type="button" className="link" aria-label={`Remove ring ${i + 1}`}
                      onClick={() => setF({ ...f, rings: f.rings.filter((_, j) => j !== i) })}>
                Remove
              </button>
            </div>
          ))}
          <button type="button" onClick={() => setF({ ...f, rings: [...f.rings,
            { name: `ring${f.rings.length + 1}`, kind: 'percent', agents: '', percent: '100' }] })}>
            Add ring
          </button>
        </fieldset>
        <label>Next ring once healthy (%)<input inputMode="numeric" value={f.advance}
                                               onChange={(e) => setF({ ...f, advance: e.target.value })} /></label>
        <label>Halt once failed (%)<input inputMode="numeric" value={f.halt}
                                         onChange={(e) => setF({ ...f, halt: e.target.value })} /></label>
        {problem && <p className="error" role="alert">{problem}</p>}
        <ErrorBox error={error} what="create the rollout" />
        <div className="buttons">
          <button type="submit">Create</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

export function ReleasesPage() {
  const { user } = useAuth();
  const releases = useAsync((s) => getAll<Release>('/api/v1/releases', {}, 500, s), []);
  const rollouts = useAsync((s) => getAll<Rollout>('/api/v1/rollouts', {}, 500, s), []);
  const [creating, setCreating] = useState(false);
  useInterval(rollouts.reload, 10000);
  const admin = can(user, 'admin');
  return (
    <section>
      <div className="section-head">
        <h1>Releases &amp; rollouts</h1>
        {admin && (releases.data ?? []).length > 0 && (
          <button type="button" onClick={() => setCreating(true)}>New rollout</button>
        )}
      </div>

      <section aria-labelledby="rollouts-h">
        <h2 id="rollouts-h">Rollouts</h2>
        {rollouts.loading && !rollouts.data && <Loading what="rollouts" />}
        <ErrorBox error={rollouts.error} what="load rollouts" onRetry={rollouts.reload} />
        {rollouts.data && rollouts.data.length === 0 && <Empty>No rollouts yet.</Empty>}
        {rollouts.data && rollouts.data.length > 0 && (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Scope</th>
                <th scope="col">Status</th>
                <th scope="col">Ring</th>
                <th scope="col">Progress (your agents)</th>
                <th scope="col">Created</th>
                {admin && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {rollouts.data.map((r) => (
                <tr key={r.id} data-rollout-id={r.id}>
                  <td><Link to={`/rollouts/${r.id}`}>{r.version}</Link></td>
                  <td>
                    {r.scope_id ? <>{`${r.scope} `}<EntityRef kind={r.scope} id={r.scope_id} name={r.scope_name} /></> : r.scope}
                  </td>
                  <td>
                    {statusBadge(r.status)}
                    {r.halted_reason && <div className="small muted">{r.halted_reason}</div>}
                  </td>
                  <td>{r.current_ring < 0 ? '—' : `${r.current_ring + 1} of ${r.ring_count}`}</td>
                  <td><ProgressBar counts={r.counts} label={`Rollout of ${r.version}`} /></td>
                  <td title={fmtTime(r.created_at)}>{fmtTime(r.created_at)}</td>
                  {admin && (
                    <td className="actions">
                      {(r.status === 'created' || r.status === 'running') && (
                        <HaltButton id={r.id} version={r.version} onDone={rollouts.reload} />
                      )}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>

      <section aria-labelledby="releases-h">
        <h2 id="releases-h">Published releases</h2>
        {releases.loading && !releases.data && <Loading what="releases" />}
        <ErrorBox error={releases.error} what="load releases" onRetry={releases.reload} />
        {releases.data && releases.data.length === 0 && (
          <Empty>No release published yet (rmm-release publish).</Empty>
        )}
        {releases.data && releases.data.length > 0 && (
          <table className="grid">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Platform</th>
                <th scope="col">Size</th>
                <th scope="col">Signed by key</th>
                <th scope="col">Published</th>
                <th scope="col">Notes</th>
              </tr>
            </thead>
            <tbody>
              {releases.data.map((r) => (
                <tr key={`${r.version}/${r.platform}/${r.arch}`}>
                  <td>{r.version}</td>
                  <td>{`${r.platform}/${r.arch}`}</td>
                  <td>{fmtBytes(r.size)}</td>
                  <td><code>{r.key_id}</code></td>
                  <td title={r.published_by}>{fmtTime(r.published_at)}</td>
                  <td>{r.notes ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      {creating && (
        <NewRolloutDialog releases={releases.data ?? []} onClose={() => setCreating(false)}
                          onDone={rollouts.reload} />
      )}
    </section>
  );
}
