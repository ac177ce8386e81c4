// The signed-in user: the token lives in localStorage, /auth/me says who it belongs to.
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, getToken, onUnauthorized, setToken } from './api';
import { startLive, stopLive } from './live';
import type { LoginAnswer, PendingLogin, Role, TotpEnrolment, User } from './types';

interface AuthState {
  user: User | null;
  checking: boolean;
  expired: boolean;
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

const RANK: Record<Role, number> = { read_only: 0, technician: 1, admin: 2, owner: 3 };

export function can(user: User | null, role: Role): boolean {
  return !!user && (RANK[user.role] ?? -1) >= RANK[role];
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [user, setUser] = useState<User | null>(null);
  const [checking, setChecking] = useState(!!getToken());
  const [expired, setExpired] = useState(false);

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

  return <Ctx.Provider value={{ user, checking, expired, login, secondFactor, enrollTotp, accept,
                             logout }}>{children}</Ctx.Provider>;
}

export function useAuth(): AuthState {
  const c = useContext(Ctx);
  if (!c) throw new Error('useAuth outside AuthProvider');
  return c;
}
