-- The control plane of the projector and API issues: tenancy renames and deletes, users and their
-- scopes, policies and each agent's effective policy, alerts, the audit log, commands issued
-- through the API. Folded from the control events of schemas/events.fbs (docs/read-models.md).
-- Applied once by rmm-projector; never edit after release.

ALTER TABLE clients
  ADD COLUMN updated_at timestamptz,
  ADD COLUMN deleted_at timestamptz;
ALTER TABLE sites
  ADD COLUMN updated_at timestamptz,
  ADD COLUMN deleted_at timestamptz;

-- Users as the log knows them (UserCreated / UserUpdated). Password hashes and sessions live in
-- the API's credential store (schema auth below), never in the log.
CREATE TABLE users (
  id           uuid PRIMARY KEY,
  username     text NOT NULL UNIQUE,
  display_name text NOT NULL DEFAULT '',
  role         text NOT NULL CHECK (role IN ('read_only', 'technician', 'admin', 'owner')),
  disabled     boolean NOT NULL DEFAULT false,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);

-- scope 'global' (scope_id = nil uuid) grants the whole partner; else a client or a site.
CREATE TABLE user_scopes (
  user_id  uuid NOT NULL,
  scope    text NOT NULL CHECK (scope IN ('global', 'client', 'site')),
  scope_id uuid NOT NULL,
  PRIMARY KEY (user_id, scope, scope_id)
);

-- One policy document per scope (PolicySet replaces it). scope_id is the nil uuid for global.
CREATE TABLE policies (
  scope    text NOT NULL CHECK (scope IN ('global', 'client', 'site', 'agent')),
  scope_id uuid NOT NULL,
  settings jsonb NOT NULL,  -- {"key": "value", ...}, values as sent (strings)
  set_by   text NOT NULL,
  set_at   timestamptz NOT NULL,
  PRIMARY KEY (scope, scope_id)
);

-- Each agent's merged policy: built-in defaults <- global <- client <- site <- agent, most
-- specific wins; recomputed for every affected agent whenever a level changes or the agent moves.
CREATE TABLE effective_policies (
  agent_id     uuid NOT NULL,
  key          text NOT NULL,
  value        text NOT NULL,
  source_scope text NOT NULL CHECK (source_scope IN ('default', 'global', 'client', 'site', 'agent')),
  source_id    uuid,  -- NULL for default and global
  PRIMARY KEY (agent_id, key)
);

-- Alerts. The id is derived from (agent, rule, subject, raising stream_seq), so a rebuild
-- reproduces the same ids; at most one active alert per (agent, rule, subject).
CREATE TABLE alerts (
  id                uuid PRIMARY KEY,
  agent_id          uuid NOT NULL,
  rule              text NOT NULL,  -- cpu, memory, disk, temperature, offline, outbox_drops,
                                    -- sequence_gap, watchdog
  subject           text NOT NULL DEFAULT '',  -- mount point, sensor, ... ('' when none)
  severity          text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  status            text NOT NULL CHECK (status IN ('active', 'resolved')),
  message           text NOT NULL,
  value             double precision,
  threshold         double precision,
  raised_at         timestamptz NOT NULL,  -- event time
  raised_stream_seq bigint NOT NULL,       -- the event that raised it
  resolved_at       timestamptz,
  resolved_by       text,                  -- 'auto' when the condition cleared, else the actor
  acknowledged_at   timestamptz,
  acknowledged_by   text,
  ack_note          text,
  suppressed_until  timestamptz,
  suppressed_by     text
);
CREATE UNIQUE INDEX alerts_one_active ON alerts (agent_id, rule, subject) WHERE status = 'active';
CREATE INDEX alerts_agent_raised ON alerts (agent_id, raised_at DESC);
CREATE INDEX alerts_active ON alerts (raised_at DESC) WHERE status = 'active';

-- Rule evaluation state (how long a condition has held), so evaluation continues across batches
-- and restarts; rebuilt by replay like every other table.
CREATE TABLE alert_conditions (
  agent_id   uuid NOT NULL,
  rule       text NOT NULL,
  subject    text NOT NULL DEFAULT '',
  since      timestamptz NOT NULL,
  last_value double precision,
  PRIMARY KEY (agent_id, rule, subject)
);

-- Every control event: who (and who impersonated), what, when, on what. client_id/site_id scope it
-- for tenant-filtered reads.
CREATE TABLE audit_log (
  stream_seq   bigint PRIMARY KEY,
  occurred_at  timestamptz NOT NULL,
  actor        text NOT NULL,
  impersonator text,
  action       text NOT NULL,  -- the control event's type token
  target_kind  text NOT NULL,  -- client, site, agent, policy, alert, user, command, enrollment, ...
  target_id    text,
  client_id    uuid,
  site_id      uuid,
  detail       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_time ON audit_log (occurred_at DESC);
CREATE INDEX audit_log_client ON audit_log (client_id, occurred_at DESC);

-- Commands issued through the API (CommandIssued) exist before the agent reports on them.
ALTER TABLE commands
  ADD COLUMN issued_at     timestamptz,
  ADD COLUMN summary       text,
  ADD COLUMN timeout_ms    bigint,
  ADD COLUMN expires_at    timestamptz,
  ADD COLUMN impersonator  text,
  ADD COLUMN cancel_requested_at timestamptz;
-- 'queued' (CommandIssued) ranks below every status the agent reports, so whichever of the API's
-- and the agent's events is folded first, the agent's status wins.
CREATE OR REPLACE FUNCTION rmm_command_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE status WHEN 'unknown' THEN 0 WHEN 'queued' THEN 1 WHEN 'received' THEN 2
                     WHEN 'started' THEN 3 ELSE 4 END
$$;

-- The API's credential store: secrets that must never enter the log, so not a read model. Written
-- only by rmm-api; never dropped by a rebuild (it lives outside the read-model schema, and a
-- rebuild that applies these migrations to a fresh schema finds it already there).
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.credentials (
  user_id       uuid PRIMARY KEY,
  username      text NOT NULL UNIQUE,
  password_hash text NOT NULL,  -- libsodium crypto_pwhash_str (Argon2id)
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS auth.sessions (
  token_hash         bytea PRIMARY KEY,  -- SHA-256 of the bearer token; the token is never stored
  user_id            uuid NOT NULL,
  acting_as_user_id  uuid,               -- set while an owner impersonates another user
  created_at         timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz NOT NULL,
  revoked_at         timestamptz
);
CREATE INDEX IF NOT EXISTS sessions_user ON auth.sessions (user_id);
CREATE TABLE IF NOT EXISTS auth.login_failures (
  username        text PRIMARY KEY,
  failures        integer NOT NULL,
  last_failure_at timestamptz NOT NULL,
  locked_until    timestamptz
);
