// Data loading state for views: loading, the value, or the error (an ApiError to show).
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';

export interface Async<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
  setData: (fn: (old: T | undefined) => T | undefined) => void;
}

export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setDataState] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    loadRef.current(ctl.signal).then(
      (v) => {
        if (ctl.signal.aborted) return;
        setDataState(v);
        setLoading(false);
      },
      (e) => {
        if (ctl.signal.aborted) return;
        setError(e);
        setLoading(false);
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const setData = useCallback((fn: (old: T | undefined) => T | undefined) => setDataState(fn), []);
  return { data, error, loading, reload, setData };
}

/** Re-runs `fn` every `ms` while the page is visible. */
export function useInterval(fn: () => void, ms: number | null): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const id = window.setInterval(() => {
      if (document.visibilityState === 'visible') ref.current();
    }, ms);
    return () => window.clearInterval(id);
  }, [ms]);
}

export interface Submit {
  busy: boolean;
  error: unknown;
  /** Runs `send` for a form's submit: busy while it runs, its failure kept in `error`. */
  submit: (send: () => Promise<void>) => (e?: FormEvent) => Promise<void>;
}

/** The state every dialog's submit button shares (disabled while busy, the error shown). */
export function useSubmit(): Submit {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const submit = useCallback(
    (send: () => Promise<void>) => async (e?: FormEvent) => {
      e?.preventDefault();
      setBusy(true);
      setError(null);
      try {
        await send();
      } catch (err) {
        setError(err);
      } finally {
        setBusy(false);
      }
    },
    [],
  );
  return { busy, error, submit };
}
