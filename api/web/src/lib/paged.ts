// A cursor-paged list: the first page on load or when the query changes, more on demand.
import { useEffect, useState } from 'react';
import { getPage, type Query } from './api';

export function usePaged<T>(path: string, query: Query) {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);
  const [gen, setGen] = useState(0);
  const key = JSON.stringify([path, query]);

  useEffect(() => {
    const ctl = new AbortController();
    setLoading(true);
    setError(null);
    getPage<T>(path, { ...query, limit: 200 }, ctl.signal).then(
      (p) => {
        setItems(p.items);
        setCursor(p.next_cursor);
        setLoading(false);
      },
      (e) => {
        if (ctl.signal.aborted) return;
        setItems([]);
        setError(e);
        setLoading(false);
      },
    );
    return () => ctl.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, gen]);

  const more = () => {
    if (!cursor) return;
    setLoading(true);
    getPage<T>(path, { ...query, limit: 200, cursor }).then(
      (p) => {
        setItems((old) => old.concat(p.items));
        setCursor(p.next_cursor);
        setLoading(false);
      },
      (e) => {
        setError(e);
        setLoading(false);
      },
    );
  };
  return { items, setItems, hasMore: !!cursor, more, loading, error,
           reload: () => setGen((g) => g + 1) };
}
