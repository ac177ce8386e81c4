// JSON shapes of docs/api.md (the HTTP contract). Every string here may come from an agent or a
// user: render it only as a React text node.

export type Role = 'owner' | 'admin' | 'technician' | 'read_only';
export type ScopeName = 'global' | 'client' | 'site' | 'agent';

export interface ScopeRef {
  scope: ScopeName;
  id: string;
  name?: string | null;  // in answers: the client's or site's name
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  role: Role;
  scopes: ScopeRef[];
  disabled?: boolean;
  impersonator?: { id?: string; username?: string } | null;
}

export interface LoginAnswer {
  token: string;
  expires_at: string;
  user: User;
  /** Only when this sign-in confirmed a new authenticator: shown once. */
  recovery_codes?: string[];
}

/** A password step that needs a second factor (docs/api.md, two-factor authentication). */
export interface PendingLogin {
  second_factor: 'totp' | 'totp_enroll';
  pending_token: string;
  expires_at: string;
}

export interface TotpEnrolment {
  secret: string;
  otpauth_uri: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface OverviewAgentRef {
  id: string;
  hostname: string | null;
  client_name: string | null;
}

export interface OverviewFailure {
  kind: 'command' | 'update';
  command_id: string;
  agent_id: string;
  hostname: string | null;
  status: string;
  summary: string | null;
  at: string | null;
}

export interface Overview {
  agents: { total: number; online: number; offline: number };
  alerts: { critical: number; warning: number; info: number };
  clients: { id: string; name: string; agents: number; online: number; active_alerts: number }[];
  /** Agents of no client (no site, or their client deleted). */
  unassigned?: { agents: number; online: number; active_alerts: number };
  /** The agents that went offline last. */
  offline_agents?: (OverviewAgentRef & { last_seen: string | null })[];
  /** The busiest online agents by their latest sample. */
  worst?: Record<'cpu' | 'memory' | 'disk', (OverviewAgentRef & { percent: number })[]>;
  updates?: { in_progress: number; failed_24h: number };
  /** Failed commands and updates of the last `recent_hours`, newest first. */
  failures?: OverviewFailure[];
  recent_hours?: number;
}

export interface AgentRow {
  id: string;
  hostname: string;
  os: string;
  version: string;
  status: string;
  client_id: string | null;
  client_name: string | null;
  site_id: string | null;
  site_name: string | null;
  last_seen: string | null;
  cpu_percent: number | null;
  memory_percent: number | null;
  disk_percent_max: number | null;
  active_alerts: number | null;
}

export interface ProcessRow {
  pid?: number;
  name?: string;
  cmdline?: string;
  user?: string;
  cpu_percent?: number;
  memory_bytes?: number;
  rss_bytes?: number;
  [key: string]: unknown;
}

export interface CommandRow {
  id: string;
  agent_id: string;
  kind: string;
  summary: string | null;
  status: string;
  issuer: string | null;
  issued_at: string | null;
  received_at?: string | null;
  started_at?: string | null;
  finished_at?: string | null;
  exit_code?: number | null;
  duration_ms?: number | null;
  reason?: string | null;
  stdout?: string;
  stderr?: string;
  stdout_truncated?: boolean;
  stderr_truncated?: boolean;
  expires_at?: string | null;
  issuer_name?: string | null;
  impersonator?: string | null;
  impersonator_name?: string | null;
  hostname?: string | null;
}

export interface AgentDetail extends AgentRow {
  inventory: Record<string, unknown> | null;
  latest_metrics: Record<string, unknown> | null;
  processes: ProcessRow[] | null;
  alerts: AlertRow[] | null;
  recent_commands: CommandRow[] | null;
}

export interface MetricPoint {
  ts: string;
  cpu_percent: number | null;
  memory_percent: number | null;
  disk_percent_max: number | null;
  rx_bytes_per_s: number | null;
  tx_bytes_per_s: number | null;
  temperature_max_c: number | null;
}

export interface Metrics {
  from: string;
  to: string;
  step_s: number;
  /** Series the agent sent samples without (no temperature sensors, no interfaces). */
  no_source?: ('disk' | 'network' | 'temperature')[];
  points: MetricPoint[];
}

export interface AlertRow {
  id: string;
  agent_id: string;
  hostname: string | null;
  rule: string;
  subject: string;
  severity: 'critical' | 'warning' | 'info' | string;
  status: string;
  message: string;
  value: number | null;
  threshold: number | null;
  raised_at: string;
  resolved_at: string | null;
  resolved_by: string | null;
  acknowledged_at: string | null;
  acknowledged_by: string | null;
  suppressed_until: string | null;
  resolved_by_name?: string | null;
  acknowledged_by_name?: string | null;
  suppressed_by_name?: string | null;
  /** The note given with the acknowledgement (or the resolve), if any. */
  ack_note?: string | null;
}

export interface Client {
  id: string;
  name: string;
  sites: { id: string; name: string }[];
  agents: number;
}

export interface Policy {
  scope: ScopeName;
  scope_id: string;
  settings: Record<string, string>;
  set_by: string;
  set_at: string;
  set_by_name?: string | null;
  scope_name?: string | null;
}

export interface EffectivePolicy {
  settings: Record<string, { value: string; source_scope: string; source_id: string | null;
                             source_name?: string | null }>;
}

export interface EnrollmentCode {
  id: string;
  site_id: string;
  expires_at: string;
  revoked: boolean;
  created_by: string;
  created_at: string;
  created_by_name?: string | null;
  revoked_by?: string | null;
  revoked_by_name?: string | null;
  site_name?: string;
  client_id?: string;
  client_name?: string | null;
}

export interface AuditRow {
  stream_seq: number;
  occurred_at: string;
  actor: string;
  impersonator: string | null;
  action: string;
  target_kind: string;
  target_id: string | null;
  detail: unknown;
  actor_name?: string | null;
  impersonator_name?: string | null;
  target_name?: string | null;
  client_id?: string | null;
  client_name?: string | null;
  site_id?: string | null;
  site_name?: string | null;
  moved_from_site_id?: string | null;  // agent_enrolled: a re-enrollment that moved the agent
  moved_from_site_name?: string | null;
}

export interface IntentAnswer {
  stream_seq?: number;
  applied?: boolean;
  [key: string]: unknown;
}

/** One agent's command of a bulk request (GET /api/v1/command-batches/{id}). */
export interface BatchItem {
  id: string;
  agent_id: string;
  hostname: string | null;
  kind: string | null;
  summary: string | null;
  status: string;
  issuer: string | null;
  issued_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  reason: string | null;
  stdout: string;
  stderr: string;
  stdout_truncated: boolean;
  stderr_truncated: boolean;
}
