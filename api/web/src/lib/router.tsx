// A hash router: rmm-api serves files only, so the route lives after '#', e.g.
// '#/agents?status=online&sort=-cpu'. The query part is the view's filter state: copy the URL
// and the view opens the same way.
import { useEffect, useState, type ReactNode } from 'react';

export interface Location {
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const raw = window.location.hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  return { path: path || '/', query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

export function href(path: string, query?: Record<string, string | undefined | null>): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) qs.set(k, v);
  const s = qs.toString();
  return `#${path}${s ? `?${s}` : ''}`;
}

export function navigate(path: string, query?: Record<string, string | undefined | null>,
                         replace = false): void {
  const target = href(path, query);
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = target.slice(1);
  }
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(current);
  useEffect(() => {
    const on = () => setLoc(current());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return loc;
}

/** Updates some query keys of the current route, keeping the others (history replaced). */
export function setQuery(loc: Location, changes: Record<string, string | null | undefined>): void {
  const next: Record<string, string> = {};
  loc.query.forEach((v, k) => (next[k] = v));
  for (const [k, v] of Object.entries(changes)) {
    if (v) next[k] = v;
    else delete next[k];
  }
  navigate(loc.path, next, true);
}

/** Matches '/agents/:id' style patterns; returns the parameters or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/');
  const s = path.split('/');
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return out;
}

export function Link(props: { to: string; query?: Record<string, string | undefined>;
                              children: ReactNode; className?: string; title?: string }) {
  return (
    <a href={href(props.to, props.query)} className={props.className} title={props.title}>
      {props.children}
    </a>
  );
}
