import { useEffect, useState, type FormEvent } from 'react';
import { api } from '../lib/api';
import { startSso, useAuth, type SsoInfo } from '../lib/auth';
import type { LoginAnswer, PendingLogin, TotpEnrolment } from '../lib/types';
import { ErrorBox } from '../components/status';

// Sign-in: the password, then (docs/api.md, two-factor authentication) a code from the
// authenticator app or a recovery code; a user whose role requires TOTP and has none enrols here
// (the secret shown once), and sees its recovery codes once before going on. Or single sign-on
// (docs/sso.md), which may come back needing the same second step.
export function LoginPage() {
  const { login, secondFactor, enrollTotp, accept, expired, ssoError, ssoPending } = useAuth();
  const [sso, setSso] = useState<SsoInfo | null>(null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [pending, setPending] = useState<PendingLogin | null>(null);
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [code, setCode] = useState('');
  const [useRecovery, setUseRecovery] = useState(false);
  const [done, setDone] = useState<LoginAnswer | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  useEffect(() => {
    api.get<SsoInfo>('/api/v1/auth/oidc').then(setSso, () => setSso(null));
  }, []);

  useEffect(() => {
    if (!ssoPending) return;
    setPending(ssoPending);
    if (ssoPending.second_factor === 'totp_enroll') {
      enrollTotp(ssoPending.pending_token).then(setEnrolment, setError);
    }
  }, [ssoPending, enrollTotp]);

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

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  };

  const submitPassword = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const p = await login(username, password);
      if (!p) return;
      setPending(p);
      if (p.second_factor === 'totp_enroll') setEnrolment(await enrollTotp(p.pending_token));
    });
  };

  const submitCode = (e: FormEvent) => {
    e.preventDefault();
    if (!pending) return;
    void run(async () => {
      const ans = await secondFactor(pending.pending_token,
                                     useRecovery ? 'recovery_code' : 'code', code.trim());
      if (ans.recovery_codes?.length) setDone(ans);
      else await accept(ans);
    });
  };

  if (done) {
    return (
      <main className="login">
        <form onSubmit={(e) => { e.preventDefault(); void run(() => accept(done)); }}
              aria-labelledby="login-title">
          <h1 id="login-title">Your recovery codes</h1>
          <p className="note">Each code signs you in once if you lose your authenticator. They are
            shown only now: keep them somewhere safe.</p>
          <ul className="recovery-codes">
            {(done.recovery_codes ?? []).map((c) => <li key={c}><code>{c}</code></li>)}
          </ul>
          <button type="submit" disabled={busy}>I have saved them: continue</button>
          <ErrorBox error={error} what="sign in" />
        </form>
      </main>
    );
  }

  if (pending) {
    return (
      <main className="login">
        <form onSubmit={submitCode} aria-labelledby="login-title">
          <h1 id="login-title">{enrolment ? 'Set up your authenticator' : 'Second factor'}</h1>
          {enrolment && (
            <>
              <p className="hint">Your role signs in with an authenticator app. Add this account
                to it (the key, or the link on a phone), then enter the code it shows.</p>
              <p>Key: <code>{enrolment.secret}</code></p>
              <p className="hint"><a href={enrolment.otpauth_uri}>Open in an authenticator app</a></p>
            </>
          )}
          <label>
            {useRecovery ? 'Recovery code' : 'Code from your authenticator app'}
            <input name="code" autoComplete="one-time-code" required autoFocus value={code}
                   inputMode={useRecovery ? 'text' : 'numeric'}
                   onChange={(e) => setCode(e.target.value)} />
          </label>
          <button type="submit" disabled={busy}>{busy ? 'Checking…' : 'Continue'}</button>
          {!enrolment && (
            <button type="button" className="link" onClick={() => setUseRecovery(!useRecovery)}>
              {useRecovery ? 'Use a code from the app' : 'Use a recovery code'}
            </button>
          )}
          <ErrorBox error={error} what="sign in" />
        </form>
      </main>
    );
  }

  return (
    <main className="login">
      <form onSubmit={submitPassword} aria-labelledby="login-title">
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
