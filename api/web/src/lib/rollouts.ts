// Releases and rollouts (docs/updates.md, docs/api.md "Updates"): JSON shapes and the pure helpers
// the pages use (ring progress, the create-rollout form). No imports, so the unit tests can load
// this file on its own (test/rollouts.test.mjs). Every string may come from an agent or a user:
// render it only as a React text node.

export const UPDATE_STEPS = ['pending', 'started', 'downloaded', 'verified', 'installed',
                             'healthy', 'refused', 'rolled_back', 'failed'] as const;
export type UpdateStep = (typeof UPDATE_STEPS)[number];
export type StepCounts = Partial<Record<string, number>>;

export interface Release {
  version: string;
  platform: string;
  arch: string;
  size: number;
  sha256: string;
  key_id: string;
  published_by: string;
  published_at: string;
  notes: string | null;
}

export interface Rollout {
  id: string;
  version: string;
  platform: string;
  arch: string;
  scope: 'global' | 'client' | 'site' | 'agent';
  scope_id: string | null;
  status: 'created' | 'running' | 'halted' | 'completed';
  current_ring: number;
  halted_reason: string | null;
  advance_healthy_percent: number;
  halt_failed_percent: number;
  created_by: string;
  created_by_name?: string | null;
  scope_name?: string | null;
  created_at: string;
  updated_at: string;
  ring_count: number;
  counts: StepCounts;
}

export interface RolloutRing {
  index: number;
  name: string;
  percent: number;
  planned_agents: string[];
  started: boolean;
  started_at: string | null;
  members: number;
  counts: StepCounts;
  excluded_by_policy: number;
  no_release_for_platform: number;
}

export interface RolloutAgent {
  ring_index: number;
  agent_id: string;
  hostname: string | null;
  step: string;
  reason: string | null;
  detail: string | null;
  command_id: string | null;
  updated_at: string | null;
}

export interface RolloutDetail extends Rollout {
  excluded_by_policy: number;
  no_release_for_platform: number;
  rings: RolloutRing[];
  agents: RolloutAgent[];
}

export interface AgentUpdate {
  command_id: string;
  from_version: string;
  to_version: string;
  step: string;
  reason: string;
  detail: string;
  started_at: string;
  updated_at: string;
}

export interface AgentUpdates {
  agent_id: string;
  current_version: string | null;
  items: AgentUpdate[];
}

export const FAILED_STEPS = ['refused', 'rolled_back', 'failed'];

export interface Progress {
  total: number;
  healthy: number;
  failed: number;
  inFlight: number;  // reported something, neither healthy nor failed yet
  pending: number;   // reported nothing yet
  healthyPct: number;
  failedPct: number;
  inFlightPct: number;
}

/** Shares of a ring (or a whole rollout) by outcome; percentages of `total`, 0 when empty. */
export function progressOf(counts: StepCounts): Progress {
  let total = 0;
  let healthy = 0;
  let failed = 0;
  let pending = 0;
  for (const [step, raw] of Object.entries(counts)) {
    const n = typeof raw === 'number' && Number.isFinite(raw) && raw > 0 ? raw : 0;
    total += n;
    if (step === 'healthy') healthy += n;
    else if (FAILED_STEPS.includes(step)) failed += n;
    else if (step === 'pending') pending += n;
  }
  const inFlight = total - healthy - failed - pending;
  const pct = (n: number) => (total === 0 ? 0 : Math.round((n * 1000) / total) / 10);
  return { total, healthy, failed, inFlight, pending, healthyPct: pct(healthy),
           failedPct: pct(failed), inFlightPct: pct(inFlight) };
}

export interface RingForm {
  name: string;
  kind: 'agents' | 'percent';
  agents: string;   // agent ids separated by commas, spaces or new lines
  percent: string;
}

export interface RolloutForm {
  version: string;
  scope: 'global' | 'client' | 'site' | 'agent';
  scopeId: string;
  rings: RingForm[];
  advance: string;
  halt: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function percentOf(text: string, what: string): number | string {
  const n = Number(text.trim());
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 100) return `${what} must be a whole number 1..100`;
  return n;
}

/** The body of POST /api/v1/rollouts for the form, or a message saying what to fix. */
export function rolloutBody(f: RolloutForm): { body: Record<string, unknown> } | { error: string } {
  const version = f.version.trim();
  if (!version) return { error: 'Choose the version to roll out.' };
  if (f.rings.length === 0) return { error: 'Add at least one ring.' };
  const rings: Record<string, unknown>[] = [];
  const names = new Set<string>();
  for (const [i, r] of f.rings.entries()) {
    const name = r.name.trim();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) {
      return { error: `Ring ${i + 1}: the name is 1 to 64 letters, digits, _ or -.` };
    }
    if (names.has(name)) return { error: `Ring ${i + 1}: the name "${name}" is used twice.` };
    names.add(name);
    if (r.kind === 'percent') {
      const p = percentOf(r.percent, `Ring ${i + 1}: the percentage`);
      if (typeof p === 'string') return { error: p };
      rings.push({ name, percent: p });
    } else {
      const ids = r.agents.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean);
      if (ids.length === 0) return { error: `Ring ${i + 1}: name at least one agent id.` };
      const bad = ids.find((id) => !UUID.test(id));
      if (bad !== undefined) return { error: `Ring ${i + 1}: "${bad}" is not an agent id.` };
      if (new Set(ids).size !== ids.length) return { error: `Ring ${i + 1}: an agent is named twice.` };
      rings.push({ name, agent_ids: ids });
    }
  }
  const advance = percentOf(f.advance, 'The healthy share to advance');
  if (typeof advance === 'string') return { error: advance };
  const halt = percentOf(f.halt, 'The failed share to halt');
  if (typeof halt === 'string') return { error: halt };
  const body: Record<string, unknown> = { version, scope: f.scope, rings,
                                          advance_healthy_percent: advance,
                                          halt_failed_percent: halt };
  if (f.scope !== 'global') {
    const id = f.scopeId.trim().toLowerCase();
    if (!UUID.test(id)) return { error: `Choose the ${f.scope} the rollout is for.` };
    body.scope_id = id;
  }
  return { body };
}
