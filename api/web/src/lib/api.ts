// The HTTP client: bearer token, JSON, and problem documents turned into ApiError so every view
// can say what happened (title, detail, correlation id).
import { dispositionName } from './download';
import type { Page } from './types';

export const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const TOKEN_KEY = 'gururmm.token';

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly correlationId: string;

  constructor(status: number, title: string, detail: string, correlationId: string) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.correlationId = correlationId;
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

export function getToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token);
    else localStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage may be disabled; the session then lasts until the page reloads.
  }
}

/** Called when the server answers 401: the token expired or was revoked. */
export function onUnauthorized(fn: Listener): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

async function toError(res: Response): Promise<ApiError> {
  const correlation = res.headers.get('x-correlation-id') ?? '';
  const text = await res.text().catch(() => '');
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    return new ApiError(
      res.status,
      typeof doc.title === 'string' ? doc.title : `HTTP ${res.status}`,
      typeof doc.detail === 'string' ? doc.detail : '',
      typeof doc.correlation_id === 'string' ? doc.correlation_id : correlation,
    );
  } catch {
    return new ApiError(res.status, `HTTP ${res.status} ${res.statusText}`, text.slice(0, 300),
      correlation);
  }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

export async function request<T>(method: string, path: string, body?: unknown,
                                 query?: Query, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(withQuery(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'The server could not be reached',
      `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`, '');
  }
  // The sign-in steps answer 401 for a wrong password or code: no session ended.
  if (res.status === 401 && !path.startsWith('/api/v1/auth/login')) {
    setToken(null);
    unauthorizedListeners.forEach((fn) => fn());
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'The server answered something that is not JSON',
      `${method} ${path}`, res.headers.get('x-correlation-id') ?? '');
  }
}

/** A file the API answers (an installer): its bytes, the name it suggests, and its headers. */
export interface Download {
  blob: Blob;
  fileName: string;
  headers: Headers;
}

/** GET of a file with the session's token (a plain link could not send it), errors as ApiError. */
export async function download(path: string, query: Query | undefined, fallbackName: string):
    Promise<Download> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(withQuery(path, query), { headers });
  } catch (e) {
    throw new ApiError(0, 'The server could not be reached',
      `GET ${path}: ${e instanceof Error ? e.message : String(e)}`, '');
  }
  if (res.status === 401) {
    setToken(null);
    unauthorizedListeners.forEach((fn) => fn());
  }
  if (!res.ok) throw await toError(res);
  return {
    blob: await res.blob(),
    fileName: dispositionName(res.headers.get('content-disposition'), fallbackName),
    headers: res.headers,
  };
}

/** Hands a downloaded file to the browser's own download (saved under its name). */
export function saveFile(file: Download): void {
  const url = URL.createObjectURL(file.blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = file.fileName;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Freed once the browser surely has it (revoking at once can cancel the save in some browsers).
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export const api = {
  get: <T>(path: string, query?: Query, signal?: AbortSignal) =>
    request<T>('GET', path, undefined, query, signal),
  post: <T>(path: string, body?: unknown, query?: Query) =>
    request<T>('POST', path, body ?? {}, query),
  put: <T>(path: string, body: unknown, query?: Query) => request<T>('PUT', path, body, query),
  patch: <T>(path: string, body: unknown, query?: Query) =>
    request<T>('PATCH', path, body, query),
  del: <T>(path: string) => request<T>('DELETE', path),
};

/** A list answer checked against the contract ({items, next_cursor}), else a clear error. */
export function asPage<T>(answer: unknown, path: string): Page<T> {
  const p = answer as Page<T> | null;
  if (!p || !Array.isArray(p.items)) {
    throw new ApiError(0, 'The server answered an unexpected shape',
      `${path} did not answer {"items": [...], "next_cursor"} (docs/api.md)`, '');
  }
  return { items: p.items, next_cursor: p.next_cursor ?? null };
}

/** GET of one page of a list. */
export async function getPage<T>(path: string, query?: Query, signal?: AbortSignal):
    Promise<Page<T>> {
  return asPage<T>(await api.get<unknown>(path, query, signal), path);
}

/** Every page of a list (bounded by maxItems). */
export async function getAll<T>(path: string, query: Query = {}, maxItems = 20000,
                                signal?: AbortSignal): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<T> = await getPage<T>(path, { ...query, limit: 500, cursor }, signal);
    out.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && out.length < maxItems);
  return out;
}

/** The EventSource URL of the live stream for a single-use ticket (POST /api/v1/live/ticket):
 *  EventSource cannot send an Authorization header, and the session token stays out of URLs. */
export function liveTicketUrl(ticket: string): string {
  return withQuery('/api/v1/live', { ticket });
}
