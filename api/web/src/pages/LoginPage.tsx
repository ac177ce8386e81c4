import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import { startSso, useAuth, type SsoInfo } from '../lib/auth';
import { ErrorBox } from '../components/status';

export function LoginPage() {
  const { login, expired, ssoError } = useAuth();
  const [sso, setSso] = useState<SsoInfo | null>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api.get<SsoInfo>('/api/v1/auth/oidc').then(setSso, () => setSso(null));
  }, []);

  const ssoSignIn = async () => {
    setBusy(true);
    setError(null);
    try {
      await startSso();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

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
        {sso?.enabled && (
          <button type="button" className="secondary" disabled={busy} onClick={ssoSignIn}>
            Sign in with {sso.display_name ?? 'SSO'}
          </button>
        )}
        <ErrorBox error={error} what="sign in" />
        <ErrorBox error={ssoError} what="sign in with SSO" />
        <p className="hint">
          The first owner's login is printed by <code>tools/rmm up</code>.
        </p>
      </form>
    </main>
  );
}
