-- Read models of the first slice. See docs/architecture.md ("Read models").
-- Applied once by rmm-projector; never edit after release: add a new migration instead.

CREATE TABLE agents (
  id             uuid PRIMARY KEY,
  hostname       text,
  os             text,
  version        text,
  first_seen     timestamptz,
  last_seen      timestamptz,
  -- Highest applied per-agent sequence: events at or below it are duplicates and are skipped.
  last_seq       bigint NOT NULL,
  events_applied bigint NOT NULL DEFAULT 0
);

-- The last applied stream sequence per projection, committed in the same transaction as its rows.
CREATE TABLE projection_checkpoints (
  projection text PRIMARY KEY,
  stream_seq bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Messages a projection could not use, kept whole (raw bytes) for inspection and replay.
CREATE TABLE dead_letters (
  id          bigserial PRIMARY KEY,
  projection  text NOT NULL,
  stream_seq  bigint,
  subject     text,
  reason      text NOT NULL,
  raw         bytea,
  received_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dead_letters_received_at ON dead_letters (received_at);
