// The colour theme: the system's (prefers-color-scheme) unless the user chose light or dark with
// the header's toggle (kept in localStorage). The choice is the `data-theme` attribute of <html>,
// which styles.css reads; charts read their colours from the same CSS variables.
import { useEffect, useState } from 'react';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'gururmm.theme';
const listeners = new Set<() => void>();

export function storedTheme(): ThemeChoice {
  try {
    const v = localStorage.getItem(KEY);
    return v === 'light' || v === 'dark' ? v : 'system';
  } catch {
    return 'system';
  }
}

function systemDark(): boolean {
  return typeof window.matchMedia === 'function' &&
    window.matchMedia('(prefers-color-scheme: dark)').matches;
}

/** The theme in effect: the stored choice, else the system's. */
export function effectiveTheme(choice: ThemeChoice = storedTheme()): 'light' | 'dark' {
  if (choice !== 'system') return choice;
  return systemDark() ? 'dark' : 'light';
}

/** Sets <html data-theme> (and color-scheme, for form controls and scroll bars). */
export function applyTheme(choice: ThemeChoice = storedTheme()): void {
  const root = document.documentElement;
  const eff = effectiveTheme(choice);
  root.dataset.theme = eff;
  root.style.colorScheme = eff;
  listeners.forEach((fn) => fn());
}

export function setTheme(choice: ThemeChoice): void {
  try {
    if (choice === 'system') localStorage.removeItem(KEY);
    else localStorage.setItem(KEY, choice);
  } catch {
    // Storage may be disabled: the choice then lasts until the page reloads.
  }
  current = choice;
  applyTheme(choice);
}

let current: ThemeChoice = storedTheme();

/** Follows the system's preference while the choice is "system". Call once at start. */
export function watchSystemTheme(): void {
  applyTheme(current);
  if (typeof window.matchMedia !== 'function') return;
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    if (current === 'system') applyTheme(current);
  });
}

/** The choice and the theme in effect; re-renders when either changes. */
export function useTheme(): { choice: ThemeChoice; effective: 'light' | 'dark' } {
  const [, bump] = useState(0);
  useEffect(() => {
    const fn = () => bump((n) => n + 1);
    listeners.add(fn);
    return () => {
      listeners.delete(fn);
    };
  }, []);
  return { choice: current, effective: effectiveTheme(current) };
}

/** A colour for a canvas (uPlot): `var(--name)` resolved against <html> (`fallback` when the
 *  theme does not define it), other values as given. */
export function cssColor(value: string, fallback = '#888'): string {
  const m = /^var\((--[a-z0-9-]+)\)$/.exec(value);
  if (!m) return value;
  const v = getComputedStyle(document.documentElement).getPropertyValue(m[1]).trim();
  return v || fallback;
}

/** A chart series' colour: the theme's `--chart-<label>` (e.g. --chart-cpu), else its own. */
export function seriesColor(label: string, own: string): string {
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, '-');
  return cssColor(`var(--chart-${slug})`, cssColor(own));
}
