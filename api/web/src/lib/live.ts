// One shared EventSource on /api/v1/live for the whole app; views subscribe by event type.
// EventSource cannot send the Authorization header, and a session token in a URL ends up in logs,
// so each connection first asks for a single-use ticket (POST /api/v1/live/ticket) and opens
// ?ticket=. A used ticket cannot reconnect, so after a drop this module opens a new connection
// with a new ticket itself (backing off), rather than letting the browser retry the old URL.
// `resync` (sent by the server when it had to drop events for a slow client, and raised here
// after every reconnect, since events of the gap are not replayed) tells views to load what they
// show again.
import { useEffect, useRef, useState } from 'react';
import { api, liveTicketUrl } from './api';

export type LiveType = 'agent' | 'alert' | 'command' | 'command_output' | 'metrics' | 'resync';
type Handler = (data: unknown) => void;

const handlers = new Map<LiveType, Set<Handler>>();
const stateListeners = new Set<(s: LiveStatus) => void>();
export type LiveStatus = 'connecting' | 'open' | 'error' | 'closed';
let source: EventSource | null = null;
let status: LiveStatus = 'closed';
let running = false;
let everOpened = false;
let retryTimer: ReturnType<typeof setTimeout> | null = null;
let failures = 0;

function setStatus(s: LiveStatus) {
  status = s;
  stateListeners.forEach((fn) => fn(s));
}

const TYPES: LiveType[] = ['agent', 'alert', 'command', 'command_output', 'metrics', 'resync'];

function retryLater() {
  if (!running || retryTimer) return;
  failures += 1;
  const delay = Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
  retryTimer = setTimeout(() => {
    retryTimer = null;
    void connect();
  }, delay);
}

async function connect(): Promise<void> {
  if (!running || source) return;
  setStatus(everOpened ? 'error' : 'connecting');
  let url: string;
  try {
    const t = await api.post<{ ticket: string }>('/api/v1/live/ticket');
    url = liveTicketUrl(t.ticket);
  } catch {
    retryLater();
    return;
  }
  if (!running || source) return;
  const es = new EventSource(url);
  source = es;
  es.onopen = () => {
    failures = 0;
    setStatus('open');
    if (everOpened) handlers.get('resync')?.forEach((fn) => fn({}));
    everOpened = true;
  };
  es.onerror = () => {
    // The ticket is spent: this connection cannot come back by itself.
    es.close();
    if (source === es) source = null;
    setStatus('error');
    retryLater();
  };
  for (const type of TYPES) {
    es.addEventListener(type, (ev) => {
      let data: unknown;
      try {
        data = JSON.parse((ev as MessageEvent<string>).data);
      } catch {
        return;
      }
      handlers.get(type)?.forEach((fn) => fn(data));
    });
  }
}

/** Tells every view to load again (e.g. once /healthz says the broker is back). */
export function resyncAll(): void {
  handlers.get('resync')?.forEach((fn) => fn({}));
}

export function startLive(): void {
  if (running) return;
  running = true;
  everOpened = false;
  failures = 0;
  void connect();
}

export function stopLive(): void {
  running = false;
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  source?.close();
  source = null;
  setStatus('closed');
}

export function useLive<T>(type: LiveType, fn: (data: T) => void): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const h: Handler = (d) => ref.current(d as T);
    let set = handlers.get(type);
    if (!set) handlers.set(type, (set = new Set()));
    set.add(h);
    return () => {
      set!.delete(h);
    };
  }, [type]);
}

export function useLiveStatus(): LiveStatus {
  const [s, setS] = useState(status);
  useEffect(() => {
    stateListeners.add(setS);
    return () => {
      stateListeners.delete(setS);
    };
  }, []);
  return s;
}
