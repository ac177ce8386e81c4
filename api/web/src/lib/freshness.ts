// Whether what a view shows may be out of date: the live stream is down (reconnecting or
// closed), the view's last load failed, or /healthz says the API cannot reach the broker or the
// database (polled while a view watches; a broker outage leaves the live stream open but
// silent). Views then grey their last-known values and say when they were loaded ("as of"), so
// an outage cannot pass for a quiet fleet.
import { useEffect, useRef, useState } from 'react';
import { resyncAll, useLiveStatus } from './live';

export interface Freshness {
  stale: boolean;
  asOf: number | null; // ms: when the data shown was last loaded or updated live
  reason: string;
}

const HEALTH_EVERY_MS = 15000;
type Health = '' | 'unreachable' | 'broker' | 'database';
let health: Health = '';
const healthListeners = new Set<(h: Health) => void>();
let timer = 0;

async function pollHealth() {
  let next: Health = '';
  try {
    const res = await fetch('/healthz', { signal: AbortSignal.timeout(10000) });
    if (res.status === 503) {
      const body = (await res.json().catch(() => ({}))) as { nats?: string; postgres?: string };
      next = body.nats && body.nats !== 'ok' ? 'broker'
        : body.postgres && body.postgres !== 'ok' ? 'database' : '';
    }
  } catch {
    next = 'unreachable';
  }
  if (next !== health) {
    const recovered = next === '';
    health = next;
    healthListeners.forEach((fn) => fn(next));
    // What views show stopped changing during the outage: load it again.
    if (recovered) resyncAll();
  }
}

function useHealth(): Health {
  const [h, setH] = useState(health);
  useEffect(() => {
    healthListeners.add(setH);
    if (healthListeners.size === 1) {
      void pollHealth();
      timer = window.setInterval(() => {
        if (document.visibilityState === 'visible') void pollHealth();
      }, HEALTH_EVERY_MS);
    }
    return () => {
      healthListeners.delete(setH);
      if (healthListeners.size === 0) window.clearInterval(timer);
    };
  }, []);
  return h;
}

const HEALTH_REASON: Record<Health, string> = {
  '': '',
  unreachable: 'the server cannot be reached',
  broker: 'the server has lost its message broker, so agents\u2019 updates are not arriving',
  database: 'the server has lost its database',
};

export function useFreshness(data: unknown, error: unknown): Freshness {
  const live = useLiveStatus();
  const h = useHealth();
  const [asOf, setAsOf] = useState<number | null>(null);
  const last = useRef<unknown>(undefined);
  useEffect(() => {
    if (data !== undefined && data !== last.current) {
      last.current = data;
      setAsOf(Date.now());
    }
  }, [data]);
  const failed = Boolean(error) && data !== undefined;
  const down = live === 'error' || live === 'closed';
  const reason = h ? HEALTH_REASON[h]
    : failed && down ? 'the server cannot be reached'
    : failed ? 'the last refresh failed'
    : down ? 'live updates are disconnected' : '';
  return { stale: data !== undefined && Boolean(reason), asOf, reason };
}
