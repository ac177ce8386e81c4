// The signed-in user: the token lives in localStorage, /auth/me says who it belongs to.
// Single sign-on (docs/sso.md): startSso() sends the browser to the provider; it comes back to
// the dashboard's root with ?code=&state=, which the provider below redeems once.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, getToken, onUnauthorized, setToken } from './api';
import { startLive, stopLive } from './live';
import type { LoginAnswer, PendingLogin, Role, TotpEnrolment, User } from './types';

interface AuthState {
  user: User | null;
  checking: boolean;
  expired: boolean;
  ssoError: unknown;
  /** An SSO sign-in that still needs GuruRMM's second factor. */
  ssoPending: PendingLogin | null;
  /** The password step: signs in, or answers the second factor it needs. */
  login: (username: string, password: string) => Promise<PendingLogin | null>;
  /** The second step: a TOTP code or a recovery code. The answer is for `accept`. */
  secondFactor: (pending: string, kind: 'code' | 'recovery_code', value: string)
    => Promise<LoginAnswer>;
  /** Enrols an authenticator during a sign-in whose role requires one. */
  enrollTotp: (pending: string) => Promise<TotpEnrolment>;
  accept: (ans: LoginAnswer) => Promise<void>;
  logout: () => Promise<void>;
}

const Ctx = createContext<AuthState | null>(null);

const SSO_STATE = 'gururmm.sso_state';

export interface SsoInfo {
  enabled: boolean;
  display_name: string | null;
}

/** Starts a single sign-on: the state stays in this tab, the browser goes to the provider. */
export async function startSso(): Promise<void> {
  const ans = await api.post<{ authorization_url: string; state: string }>(
    '/api/v1/auth/oidc/start');
  sessionStorage.setItem(SSO_STATE, ans.state);
  window.location.assign(ans.authorization_url);
}

const RANK: Record<Role, number> = { read_only: 0, technician: 1, admin: 2, owner: 3 };

export function can(user: User | null, role: Role): boolean {
  return !!user && (RANK[user.role] ?? -1) >= RANK[role];
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(!!getToken());
  const [expired, setExpired] = useState(false);
  const [ssoError, setSsoError] = useState<unknown>(null);
  const [ssoPending, setSsoPending] = useState<PendingLogin | null>(null);

  // Back from the provider: the query is removed at once (a reload must not replay it), and only
  // a state this tab started is redeemed (else anyone could sign this browser in as themselves).
  useEffect(() => {
    const q = new URLSearchParams(window.location.search);
    const code = q.get('code');
    const state = q.get('state');
    const error = q.get('error');
    if (!state || (!code && !error)) return;
    history.replaceState(null, '', window.location.pathname + window.location.hash);
    const mine = sessionStorage.getItem(SSO_STATE);
    sessionStorage.removeItem(SSO_STATE);
    if (error) {
      setSsoError(new Error(`The identity provider refused the sign-in (${error}).`));
      return;
    }
    if (!mine || mine !== state) {
      setSsoError(new Error('This sign-in was not started in this tab; start it again.'));
      return;
    }
    api.post<LoginAnswer | PendingLogin>('/api/v1/auth/oidc/callback', { code, state }).then(
      (ans) => {
        // GuruRMM's own second factor is due: the sign-in page takes it from here.
        if ('second_factor' in ans) {
          setSsoPending(ans);
          return;
        }
        setToken(ans.token);
        setExpired(false);
        setUser(ans.user);
        startLive();
      },
      (err) => setSsoError(err),
    );
  }, []);

  useEffect(() => {
    if (!getToken()) return;
    api.get<User>('/api/v1/auth/me').then(
      (u) => {
        setUser(u);
        setChecking(false);
        startLive();
      },
      () => setChecking(false),
    );
  }, []);

  useEffect(
    () =>
      onUnauthorized(() => {
        stopLive();
        setUser((u) => {
          if (u) setExpired(true);
          return null;
        });
      }),
    [],
  );

  const accept = useCallback(async (ans: LoginAnswer) => {
    setToken(ans.token);
    setExpired(false);
    let me: User = ans.user;
    if (!me) me = await api.get<User>('/api/v1/auth/me');
    setUser(me);
    startLive();
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const ans = await api.post<LoginAnswer | PendingLogin>('/api/v1/auth/login',
                                                           { username, password });
    if ('second_factor' in ans) return ans;
    await accept(ans);
    return null;
  }, [accept]);

  const secondFactor = useCallback(
    (pending: string, kind: 'code' | 'recovery_code', value: string) =>
      api.post<LoginAnswer>('/api/v1/auth/login/second-factor',
                            { pending_token: pending, [kind]: value }),
    []);

  const enrollTotp = useCallback(
    (pending: string) =>
      api.post<TotpEnrolment>('/api/v1/auth/login/enroll-totp', { pending_token: pending }),
    []);

  const logout = useCallback(async () => {
    try {
      await api.post('/api/v1/auth/logout');
    } catch {
      // The token is dropped locally either way.
    }
    setToken(null);
    stopLive();
    setUser(null);
  }, []);

  return <Ctx.Provider value={{ user, checking, expired, ssoError, ssoPending, login, secondFactor,
                             enrollTotp, accept, logout }}>{children}</Ctx.Provider>;
}

export function useAuth(): AuthState {
  const c = useContext(Ctx);
  if (!c) throw new Error('useAuth outside AuthProvider');
  return c;
}
