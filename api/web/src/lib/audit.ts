// Pure helpers of the audit log page (no imports, so test/audit.test.mjs compiles it alone):
// readable actions and details, and the time filters of the route.

/** "site_created" -> "Site created". */
export function actionLabel(action: string): string {
  const words = action.replace(/_/g, ' ').trim();
  return words ? words[0].toUpperCase() + words.slice(1) : action;
}

function keyLabel(key: string): string {
  return key.replace(/_(ns|id)$/, (m) => (m === '_id' ? ' id' : '')).replace(/_/g, ' ');
}

function valueText(key: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number' && key.endsWith('_ns')) {
    const d = new Date(v / 1e6);
    return Number.isNaN(d.getTime()) ? String(v) : d.toISOString().replace('.000Z', 'Z');
  }
  if (Array.isArray(v)) return v.map((x) => valueText('', x)).join(', ');
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k} = ${valueText(k, x)}`).join(', ');
  }
  return String(v);
}

/** The detail object of an audit entry as label/value lines (text only), empty values left out;
 *  anything that is not an object is one line. */
export function detailLines(detail: unknown): [string, string][] {
  if (detail === null || detail === undefined) return [];
  if (typeof detail !== 'object' || Array.isArray(detail)) return [['detail', valueText('', detail)]];
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(detail as Record<string, unknown>)) {
    if (v === '' || v === null || v === undefined) continue;
    if (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
    out.push([keyLabel(k), valueText(k, v)]);
  }
  return out;
}

/** A datetime-local input's value (local time) as RFC 3339 UTC, or '' when empty or invalid. */
export function localToUtc(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 as a datetime-local input's value (local time, minutes), or ''. */
export function utcToLocal(value: string): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** The audit filters of docs/api.md, in the order the form shows them. */
export const AUDIT_FILTERS = ['actor', 'action', 'target_kind', 'target_id', 'since', 'until',
  'client_id', 'site_id'] as const;

/** Target kinds of audit entries (audit_log.target_kind). */
export const TARGET_KINDS = ['agent', 'alert', 'client', 'command', 'enrollment_code', 'policy',
  'rollout', 'site', 'user'];
