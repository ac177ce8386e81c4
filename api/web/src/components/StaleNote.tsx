// The "as of" line over data that may be out of date (see lib/freshness.ts). Sibling content
// after it is greyed by CSS (`.stale-note ~ ...`), so a view only places it before its data.
import { useEffect, useState } from 'react';
import { asOfText } from '../lib/chartaxis';
import type { Freshness } from '../lib/freshness';

export function StaleNote({ fresh, onRetry }: { fresh: Freshness; onRetry?: () => void }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!fresh.stale) return;
    const id = window.setInterval(() => setNow(Date.now()), 5000);
    return () => window.clearInterval(id);
  }, [fresh.stale]);
  if (!fresh.stale) return null;
  const when = fresh.asOf ? asOfText(fresh.asOf, Math.max(now, fresh.asOf)) : 'an earlier load';
  return (
    <p className="stale-note" role="status" data-as-of={fresh.asOf ?? ''}>
      <strong>Not live:</strong>{' '}
      {`showing data as of ${when}; ${fresh.reason}.`}
      {onRetry && <>{' '}<button type="button" onClick={onRetry}>Retry now</button></>}
    </p>
  );
}
