// Clients and their sites: create, rename, delete (admins); agent counts link to the table.
import { useState, type FormEvent } from 'react';
import { api, getAll } from '../lib/api';
import { can, useAuth } from '../lib/auth';
import { useAsync } from '../lib/hooks';
import { Link } from '../lib/router';
import type { Client } from '../lib/types';
import { Dialog, Empty, ErrorBox, Loading } from '../components/status';

type Edit =
  | { kind: 'rename-client' | 'rename-site'; id: string; name: string }
  | { kind: 'delete-client' | 'delete-site'; id: string; name: string }
  | { kind: 'new-site'; id: string; name: string };

function EditDialog({ edit, onClose, onDone }: { edit: Edit; onClose: () => void;
                                                 onDone: () => void }) {
  const [name, setName] = useState(edit.kind === 'new-site' ? '' : edit.name);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const isDelete = edit.kind.startsWith('delete');
  const title = {
    'rename-client': 'Rename client', 'rename-site': 'Rename site', 'delete-client': 'Delete client',
    'delete-site': 'Delete site', 'new-site': `New site for ${edit.name}`,
  }[edit.kind];
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const id = encodeURIComponent(edit.id);
    try {
      const wait = { wait: 5000 };
      if (edit.kind === 'rename-client') await api.patch(`/api/v1/clients/${id}`, { name }, wait);
      if (edit.kind === 'rename-site') await api.patch(`/api/v1/sites/${id}`, { name }, wait);
      if (edit.kind === 'delete-client') await api.del(`/api/v1/clients/${id}?wait=5000`);
      if (edit.kind === 'delete-site') await api.del(`/api/v1/sites/${id}?wait=5000`);
      if (edit.kind === 'new-site') await api.post('/api/v1/sites', { client_id: edit.id, name }, wait);
      onDone();
      onClose();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog title={title} open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        {isDelete ? (
          <p>Delete <strong>{edit.name}</strong>? Its agents keep running but lose this grouping.</p>
        ) : (
          <label>
            Name
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
        )}
        <ErrorBox error={error} what={title.toLowerCase()} />
        <div className="buttons">
          <button type="submit" disabled={busy} className={isDelete ? 'danger' : undefined}>
            {isDelete ? 'Delete' : 'Save'}
          </button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

export function ClientsPage() {
  const { user } = useAuth();
  const admin = can(user, 'admin');
  const clients = useAsync((s) => getAll<Client>('/api/v1/clients', {}, 5000, s), []);
  const [edit, setEdit] = useState<Edit | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>(null);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post('/api/v1/clients', { name }, { wait: 5000 });
      setName('');
      clients.reload();
    } catch (err) {
      setError(err);
    }
  };

  return (
    <section>
      <h1>Clients &amp; sites</h1>
      {admin && (
        <form className="toolbar" onSubmit={create}>
          <label>
            New client
            <input required value={name} onChange={(e) => setName(e.target.value)}
                   placeholder="client name" />
          </label>
          <button type="submit">Create client</button>
        </form>
      )}
      <ErrorBox error={error} what="create the client" />
      {clients.loading && !clients.data && <Loading what="clients" />}
      <ErrorBox error={clients.error} what="load clients" onRetry={clients.reload} />
      {clients.data?.length === 0 && <Empty>No clients yet.</Empty>}
      {clients.data && clients.data.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Client</th>
              <th scope="col">Sites</th>
              <th scope="col" className="num">Agents</th>
              {admin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {clients.data.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link to="/agents" query={{ client_id: c.id }}>{c.name}</Link>
                  <div className="muted small">
                    <Link to="/policies" query={{ scope: 'client', scope_id: c.id }}>policy</Link>
                  </div>
                </td>
                <td>
                  <ul className="sites">
                    {c.sites.map((s) => (
                      <li key={s.id}>
                        <Link to="/agents" query={{ site_id: s.id }}>{s.name}</Link>{' '}
                        <Link to="/policies" query={{ scope: 'site', scope_id: s.id }} className="muted small">
                          policy
                        </Link>
                        {admin && (
                          <>
                            {' '}
                            <button type="button" className="link small"
                                    onClick={() => setEdit({ kind: 'rename-site', id: s.id, name: s.name })}>
                              rename
                            </button>{' '}
                            <button type="button" className="link small"
                                    onClick={() => setEdit({ kind: 'delete-site', id: s.id, name: s.name })}>
                              delete
                            </button>
                          </>
                        )}
                      </li>
                    ))}
                  </ul>
                </td>
                <td className="num">{c.agents}</td>
                {admin && (
                  <td className="actions">
                    <button type="button" onClick={() => setEdit({ kind: 'new-site', id: c.id, name: c.name })}>
                      Add site
                    </button>
                    <button type="button" onClick={() => setEdit({ kind: 'rename-client', id: c.id, name: c.name })}>
                      Rename
                    </button>
                    <button type="button" onClick={() => setEdit({ kind: 'delete-client', id: c.id, name: c.name })}>
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {edit && <EditDialog edit={edit} onClose={() => setEdit(null)} onDone={clients.reload} />}
    </section>
  );
}
