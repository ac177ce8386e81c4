-- Releases, rollouts and the progress of each agent's update (issue 7, docs/updates.md). Folded
-- from ReleasePublished, RolloutCreated / RingStarted / Halted / Completed (control events) and
-- UpdateProgress (agent events). Applied once by rmm-projector; never edit after release.

-- One row per published build; a re-publish of the same version, platform and arch replaces it.
CREATE TABLE releases (
  version      text NOT NULL,
  platform     text NOT NULL,
  arch         text NOT NULL,
  size         bigint NOT NULL,
  sha256       text NOT NULL,
  manifest     text NOT NULL,  -- the signed JSON, verbatim
  signature    text NOT NULL,  -- "ed25519 <key id> <hex>"
  key_id       text NOT NULL,
  published_by text NOT NULL,
  published_at timestamptz NOT NULL,
  PRIMARY KEY (version, platform, arch)
);

CREATE TABLE rollouts (
  id                      uuid PRIMARY KEY,
  version                 text NOT NULL,
  platform                text NOT NULL,
  arch                    text NOT NULL,
  scope                   text NOT NULL CHECK (scope IN ('global', 'client', 'site', 'agent')),
  scope_id                uuid NOT NULL,
  advance_healthy_percent integer NOT NULL,
  halt_failed_percent     integer NOT NULL,
  status                  text NOT NULL CHECK (status IN ('created', 'running', 'halted',
                                                          'completed')),
  current_ring            integer NOT NULL DEFAULT -1,  -- -1: no ring started yet
  halted_reason           text,
  created_by              text NOT NULL,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL
);

-- The rings as planned (RolloutCreated) and as started (RolloutRingStarted: the agents chosen).
CREATE TABLE rollout_rings (
  rollout_id    uuid NOT NULL,
  ring_index    integer NOT NULL,
  name          text NOT NULL,
  planned_agents uuid[] NOT NULL DEFAULT '{}',  -- a named canary set
  percent       integer NOT NULL DEFAULT 0,     -- or a share of the agents in scope
  agents        uuid[],                         -- chosen when the ring started
  started_at    timestamptz,
  PRIMARY KEY (rollout_id, ring_index)
);

-- The latest step of each update of each agent (one row per update_agent command).
CREATE TABLE agent_updates (
  agent_id     uuid NOT NULL,
  command_id   uuid NOT NULL,
  from_version text NOT NULL,
  to_version   text NOT NULL,
  step         text NOT NULL,  -- started, downloaded, verified, refused, installed, healthy,
                               -- rolled_back, failed
  reason       text NOT NULL DEFAULT '',
  detail       text NOT NULL DEFAULT '',
  started_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL,
  last_seq     bigint NOT NULL,  -- agent sequence of the step folded last
  PRIMARY KEY (agent_id, command_id)
);
CREATE INDEX agent_updates_version ON agent_updates (to_version, step);
