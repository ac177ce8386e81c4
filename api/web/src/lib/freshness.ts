// Whether what a view shows may be out of date: the live stream is down (reconnecting or
// closed) or the view's last load failed. Views then grey their last-known values and say when
// they were loaded ("as of"), so an API or broker outage cannot pass for a quiet fleet.
import { useEffect, useRef, useState } from 'react';
import { useLiveStatus } from './live';

export interface Freshness {
  stale: boolean;
  asOf: number | null; // ms: when the data shown was last loaded or updated live
  reason: string;
}

export function useFreshness(data: unknown, error: unknown): Freshness {
  const live = useLiveStatus();
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
  const reason = failed && down ? 'the server cannot be reached'
    : failed ? 'the last refresh failed'
    : down ? 'live updates are disconnected' : '';
  return { stale: data !== undefined && (failed || down), asOf, reason };
}
