import { useState, type FormEvent } from 'react';
import { useAuth } from '../lib/auth';
import { ErrorBox } from '../components/status';

export function LoginPage() {
  const { login, expired } = useAuth();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username, password);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Sign in to GuruRMM</h1>
        {expired && <p className="note">Your session ended; sign in again.</p>}
        <label>
          Username
          <input name="username" autoComplete="username" required autoFocus value={username}
                 onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required
                 value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorBox error={error} what="sign in" />
        <p className="hint">
          The first owner's login is printed by <code>tools/rmm up</code>.
        </p>
      </form>
    </main>
  );
}
