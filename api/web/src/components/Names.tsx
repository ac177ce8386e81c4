// Names next to ids (docs/api.md "Names"): people, clients, sites and agents are shown by the
// name the API resolved, with the id one click away (a link to the entity, the id in the title and
// a copy button). Every name may come from a user or an agent: rendered as text only.
import { useState } from 'react';
import { Link } from '../lib/router';

/** Copies `id` to the clipboard; keyboard reachable, says so once done. */
export function CopyId({ id }: { id: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="copy-id"
      title={done ? 'Copied' : `Copy id ${id}`}
      aria-label={`Copy id ${id}`}
      onClick={() => {
        void navigator.clipboard?.writeText(id).then(() => setDone(true), () => setDone(false));
      }}
    >
      {done ? '✓' : (
        // Drawn, not a glyph: '⧉' is missing from common fonts (a box in Debian's Chromium).
        <svg width="11" height="11" viewBox="0 0 12 12" aria-hidden="true" focusable="false">
          <rect x="1" y="3.5" width="7.5" height="7.5" rx="1" fill="none" stroke="currentColor" />
          <path d="M3.5 1.5h6a1 1 0 0 1 1 1v6" fill="none" stroke="currentColor" />
        </svg>
      )}
    </button>
  );
}

/** Where an entity of `kind` is shown in the dashboard, if anywhere. */
export function entityPath(kind: string, id: string):
    { to: string; query?: Record<string, string> } | null {
  switch (kind) {
    case 'agent': return { to: `/agents/${encodeURIComponent(id)}` };
    case 'client': return { to: '/agents', query: { client_id: id } };
    case 'site': return { to: '/agents', query: { site_id: id } };
    case 'command': return { to: `/commands/${encodeURIComponent(id)}` };
    case 'rollout': return { to: `/rollouts/${encodeURIComponent(id)}` };
    case 'user': return { to: '/audit', query: { actor: `user:${id}` } };
    case 'alert': return { to: '/alerts', query: { status: 'all' } };
    case 'enrollment_code': return { to: '/enrollment' };
    case 'policy': {
      const [scope, scopeId] = id.split(':');
      return scopeId ? { to: '/policies', query: { scope, scope_id: scopeId } }
                     : { to: '/policies', query: { scope } };
    }
    default: return null;
  }
}

/** An entity by name, linked to where it is shown; the id in the title and a copy button. */
export function EntityRef({ kind, id, name }:
    { kind: string; id: string | null | undefined; name?: string | null }) {
  if (!id) return <>{name ?? '—'}</>;
  const label = name || (kind === 'policy' ? id : `${kind} ${id.slice(0, 8)}`);
  const path = entityPath(kind, id);
  return (
    <span className="named">
      {path ? (
        <Link to={path.to} query={path.query} title={`${kind} ${id}`}>{label}</Link>
      ) : (
        <span title={`${kind} ${id}`}>{label}</span>
      )}
      <CopyId id={id} />
    </span>
  );
}

/** The user id of an actor text `user:<id>`, else null (services: rmm-api, auto, ...). */
export function actorUserId(actor: string | null | undefined): string | null {
  return actor && actor.startsWith('user:') ? actor.slice(5) : null;
}

/** Who did something: a user by name (linked to what they did in the audit log), a service by
 *  its own name. */
export function Actor({ actor, name }: { actor: string | null | undefined; name?: string | null }) {
  if (!actor) return <>—</>;
  const user = actorUserId(actor);
  if (!user) return <span className="named">{actor}</span>;
  return <EntityRef kind="user" id={user} name={name ?? null} />;
}
