// Users (admins): list, create, change role, disable; owners may impersonate.
import { useState, type FormEvent } from 'react';
import { api, getAll, setToken } from '../lib/api';
import { useAsync } from '../lib/hooks';
import { can, useAuth } from '../lib/auth';
import { usePaged } from '../lib/paged';
import type { Client, Role, User } from '../lib/types';
import { Badge, Dialog, Empty, ErrorBox, Loading } from '../components/status';
import { keepOwnerToken } from '../components/TopBar';
import { EntityRef } from '../components/Names';

const ROLES: Role[] = ['read_only', 'technician', 'admin', 'owner'];

function NewUserDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
  const [f, setF] = useState({ username: '', display_name: '', password: '', role: 'technician' });
  const [scope, setScope] = useState('global:');
  const clients = useAsync((s) => getAll<Client>('/api/v1/clients', {}, 5000, s), []);
  const [error, setError] = useState<unknown>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    const [kind, id] = scope.split(':');
    try {
      await api.post('/api/v1/users', { ...f, scopes: [kind === 'global' ? { scope: 'global' }
                                                                         : { scope: kind, id }] },
                     { wait: 5000 });
      onDone();
      onClose();
    } catch (err) {
      setError(err);
    }
  };
  const field = (k: keyof typeof f) => ({ value: f[k], onChange: (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value }) });
  return (
    <Dialog title="New user" open onClose={onClose}>
      <form onSubmit={submit} className="stack">
        <label>Username<input required autoComplete="off" {...field('username')} /></label>
        <label>Display name<input {...field('display_name')} /></label>
        <label>Password<input required type="password" autoComplete="new-password" minLength={12} {...field('password')} /></label>
        <label>
          Role
          <select {...field('role')}>
            {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
          </select>
        </label>
        <label>
          Sees
          <select value={scope} onChange={(e) => setScope(e.target.value)}>
            <option value="global:">every client (global)</option>
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
        <ErrorBox error={error} what="create the user" />
        <div className="buttons">
          <button type="submit">Create</button>
          <button type="button" onClick={onClose}>Cancel</button>
        </div>
      </form>
    </Dialog>
  );
}

export function UsersPage() {
  const { user } = useAuth();
  const list = usePaged<User>('/api/v1/users', {});
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const patch = async (id: string, body: Record<string, unknown>) => {
    setError(null);
    try {
      await api.patch(`/api/v1/users/${encodeURIComponent(id)}`, body, { wait: 5000 });
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const impersonate = async (id: string) => {
    setError(null);
    try {
      const ans = await api.post<{ token: string }>('/api/v1/auth/impersonate', { user_id: id });
      keepOwnerToken();
      setToken(ans.token);
      window.location.hash = '#/';
      window.location.reload();
    } catch (err) {
      setError(err);
    }
  };

  if (!can(user, 'admin')) {
    return (
      <section>
        <h1>Users</h1>
        <p className="note">Only admins and owners manage users.</p>
      </section>
    );
  }
  return (
    <section>
      <div className="section-head">
        <h1>Users</h1>
        <button type="button" onClick={() => setCreating(true)}>New user</button>
      </div>
      <ErrorBox error={error} what="change the user" />
      {list.loading && list.items.length === 0 && <Loading what="users" />}
      <ErrorBox error={list.error} what="load users" onRetry={list.reload} />
      {!list.loading && !list.error && list.items.length === 0 && <Empty>No users.</Empty>}
      {list.items.length > 0 && (
        <table className="grid">
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Scopes</th>
              <th scope="col">State</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {list.items.map((u) => (
              <tr key={u.id}>
                <td>{u.username}</td>
                <td>{u.display_name}</td>
                <td>
                  <select aria-label={`Role of ${u.username}`} value={u.role}
                          disabled={u.id === user?.id}
                          onChange={(e) => void patch(u.id, { role: e.target.value })}>
                    {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                </td>
                <td>
                  {(u.scopes ?? []).map((s, i) => (
                    <span key={`${s.scope}:${s.id}`}>
                      {i > 0 && ', '}
                      {s.scope === 'global' ? 'global'
                        : <>{`${s.scope} `}<EntityRef kind={s.scope} id={s.id} name={s.name} /></>}
                    </span>
                  ))}
                </td>
                <td><Badge kind={u.disabled ? 'offline' : 'online'}>{u.disabled ? 'disabled' : 'active'}</Badge></td>
                <td className="actions">
                  {u.id !== user?.id && (
                    <button type="button" onClick={() => void patch(u.id, { disabled: !u.disabled })}>
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                  )}
                  {user?.role === 'owner' && u.id !== user.id && !u.disabled && (
                    <button type="button" onClick={() => void impersonate(u.id)}>Impersonate</button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {list.hasMore && <button type="button" onClick={list.more}>Load more</button>}
      {creating && <NewUserDialog onClose={() => setCreating(false)} onDone={list.reload} />}
    </section>
  );
}
