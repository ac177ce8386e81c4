// One shared EventSource on /api/v1/live for the whole app; views subscribe by event type.
// The browser reconnects on its own after a drop. `resync` (sent by the server when it had to
// drop events for a slow client, and raised here after every reconnect, since events of the gap
// are not replayed) tells views to load what they show again.
import { useEffect, useRef, useState } from 'react';
import { liveUrl } from './api';

export type LiveType = 'agent' | 'alert' | 'command' | 'command_output' | 'metrics' | 'resync';
type Handler = (data: unknown) => void;

const handlers = new Map<LiveType, Set<Handler>>();
const stateListeners = new Set<(s: LiveStatus) => void>();
export type LiveStatus = 'connecting' | 'open' | 'error' | 'closed';
let source: EventSource | null = null;
let status: LiveStatus = 'closed';

function setStatus(s: LiveStatus) {
  status = s;
  stateListeners.forEach((fn) => fn(s));
}

const TYPES: LiveType[] = ['agent', 'alert', 'command', 'command_output', 'metrics', 'resync'];

export function startLive(): void {
  if (source) return;
  setStatus('connecting');
  const es = new EventSource(liveUrl());
  source = es;
  let opened = false;
  es.onopen = () => {
    setStatus('open');
    if (opened) handlers.get('resync')?.forEach((fn) => fn({}));
    opened = true;
  };
  es.onerror = () => setStatus(es.readyState === EventSource.CLOSED ? 'closed' : 'error');
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

export function stopLive(): void {
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
