// The header: brand, the main navigation (only the views the user's role can use; folded into a
// menu button on narrow screens), live status, who is signed in, the colour theme toggle, and,
// while an owner impersonates someone, the way back to the owner's own session.
import { useEffect, useState, type ReactNode } from 'react';
import { api, getToken, setToken } from '../lib/api';
import { can, useAuth } from '../lib/auth';
import { setTheme, useTheme, type ThemeChoice } from '../lib/theme';
import type { Role } from '../lib/types';

/** Views a lower role would only meet with a 403. */
const NEEDS: Record<string, Role> = { '/users': 'admin' };

/** The owner's own token, kept while impersonating (UsersPage stores it). */
export const OWNER_TOKEN_KEY = 'gururmm.owner_token';

export function keepOwnerToken(): void {
  try {
    const t = getToken();
    if (t) sessionStorage.setItem(OWNER_TOKEN_KEY, t);
  } catch {
    // Without storage there is no way back but signing in again.
  }
}

function ownerToken(): string | null {
  try {
    return sessionStorage.getItem(OWNER_TOKEN_KEY);
  } catch {
    return null;
  }
}

/** Ends the impersonation session and goes back to the owner's own. */
async function returnToOwner(): Promise<void> {
  const mine = ownerToken();
  try {
    await api.post('/api/v1/auth/logout');
  } catch {
    // The impersonation ends with the owner's session anyway.
  }
  try {
    sessionStorage.removeItem(OWNER_TOKEN_KEY);
  } catch {
    // Nothing kept.
  }
  setToken(mine);
  window.location.hash = '#/users';
  window.location.reload();
}

const NEXT: Record<ThemeChoice, ThemeChoice> = { system: 'dark', dark: 'light', light: 'system' };

function ThemeToggle() {
  const { user } = useAuth();
  const { choice, effective } = useTheme();
  const label = choice === 'system' ? `system (${effective})` : choice;
  return (
    <button type="button" className="theme-toggle" onClick={() => setTheme(NEXT[choice])}
            title={`Colour theme (system, dark or light); signed in as ${user?.username ?? ''}`}
            aria-label={`Colour theme: ${label}. Change`}
            data-theme-choice={choice}>
      {effective === 'dark' ? '☾' : '☀'}
      <span className="theme-label">
        {choice === 'system' ? ' Auto' : choice === 'dark' ? ' Dark' : ' Light'}
      </span>
    </button>
  );
}

export function TopBar({ nav, section, live }: { nav: [string, string][]; section: string;
                                                 live: ReactNode }) {
  const { user, logout } = useAuth();
  const [open, setOpen] = useState(false);
  // A chosen view closes the menu.
  useEffect(() => setOpen(false), [section]);
  if (!user) return null;
  const items = nav.filter(([to]) => !NEEDS[to] || can(user, NEEDS[to]));
  const impersonating = !!user.impersonator;
  return (
    <header className="top">
      <span className="brand">GuruRMM</span>
      <button type="button" className="menu-toggle" aria-expanded={open} aria-controls="main-nav"
              onClick={() => setOpen((o) => !o)}>
        {open ? '✕ Menu' : '☰ Menu'}
      </button>
      <nav id="main-nav" aria-label="Main" className={open ? 'open' : undefined}>
        <ul>
          {items.map(([to, label]) => (
            <li key={to}>
              <a href={`#${to}`} aria-current={section === to ? 'page' : undefined}>
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      {live}
      <span className="who" title={`role: ${user.role}`}>
        {user.display_name || user.username}
        {impersonating && (
          <span className="impersonating">
            {` as ${user.role}, by ${user.impersonator?.username ?? 'owner'}`}
          </span>
        )}
      </span>
      <ThemeToggle />
      {impersonating && ownerToken() && (
        <button type="button" onClick={() => void returnToOwner()}>
          Return to my session
        </button>
      )}
      <button type="button" onClick={() => void logout()}>
        Sign out
      </button>
    </header>
  );
}
