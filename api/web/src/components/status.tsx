// Loading, error and empty states, badges: each says what is going on in words.
import { useEffect, useRef, type ReactNode } from 'react';
import { ApiError } from '../lib/api';

export function Loading({ what }: { what: string }) {
  return (
    <p className="loading" role="status" aria-live="polite">
      Loading {what}…
    </p>
  );
}

/** Shows a problem document (title, detail, correlation id) or any other failure. */
export function ErrorBox({ error, what, onRetry }: { error: unknown; what?: string;
                                                    onRetry?: () => void }) {
  if (!error) return null;
  let title = 'Something went wrong';
  let detail = '';
  let correlation = '';
  let status = 0;
  if (error instanceof ApiError) {
    title = error.title;
    detail = error.detail;
    correlation = error.correlationId;
    status = error.status;
  } else if (error instanceof Error) {
    detail = error.message;
  } else {
    detail = String(error);
  }
  return (
    <div className="error" role="alert">
      <p className="error-title">
        {what ? `Could not ${what}: ` : ''}
        {title}
        {status ? ` (HTTP ${status})` : ''}
      </p>
      {detail && <p className="error-detail">{detail}</p>}
      {correlation && (
        <p className="error-correlation">
          Correlation id: <code>{correlation}</code>
        </p>
      )}
      {onRetry && (
        <button type="button" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Badge({ kind, children }: { kind: string; children: ReactNode }) {
  const safe = /^[a-z_]+$/.test(kind) ? kind : 'unknown';
  return <span className={`badge badge-${safe}`}>{children}</span>;
}

/** A modal dialog on the native <dialog> element: focus moves into it, Escape closes it. */
export function Dialog({ title, open, onClose, children }: { title: string; open: boolean;
                                                             onClose: () => void;
                                                             children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} aria-label={title}>
      <div className="dialog-head">
        <h2>{title}</h2>
        <button type="button" className="link" onClick={onClose} aria-label="Close">
          ✕
        </button>
      </div>
      {open && children}
    </dialog>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}
