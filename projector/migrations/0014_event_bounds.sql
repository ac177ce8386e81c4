-- What one agent can make the read models hold (issue 16, item 8): event times clamped around the
-- moment the stream stored the event (docs/read-models.md, "Event time"), the agent's own time
-- kept as data where it was replaced.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.

-- The agent's time of a sample whose `ts` was clamped (NULL: `ts` is the agent's own time).
ALTER TABLE metrics ADD COLUMN IF NOT EXISTS agent_ts timestamptz;
COMMENT ON COLUMN metrics.agent_ts IS
  'the agent''s own time of the sample when ts was clamped to the window around its stream time';

-- How far the agent's clock is ahead of the broker's (negative: behind), in ms, at its newest
-- heartbeat: the original time of what last_seen shows.
ALTER TABLE agents ADD COLUMN IF NOT EXISTS clock_offset_ms bigint;

-- Dead letters keep the first 16 KiB of a message (the stream keeps the rest while it holds
-- stream_seq), with the whole message's size and SHA-256, who could publish it (the agent id of
-- its subject, or 'control') and the stream's time, which retention and the cap use.
ALTER TABLE dead_letters
  ADD COLUMN IF NOT EXISTS raw_size bigint,
  ADD COLUMN IF NOT EXISTS raw_sha256 bytea,
  ADD COLUMN IF NOT EXISTS source text,
  ADD COLUMN IF NOT EXISTS stored_at timestamptz;
UPDATE dead_letters
   SET raw_size = length(raw), raw_sha256 = sha256(raw), raw = substring(raw FROM 1 FOR 16384)
 WHERE raw IS NOT NULL AND raw_size IS NULL;
CREATE INDEX IF NOT EXISTS dead_letters_stored_at ON dead_letters (stored_at);

-- Per projection, source and hour of stream time: dead letters stored (at most 100) and those
-- only counted past that cap.
CREATE TABLE IF NOT EXISTS dead_letter_hours (
  projection text NOT NULL,
  source     text NOT NULL,
  hour       timestamptz NOT NULL,
  stored     bigint NOT NULL,
  dropped    bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (projection, source, hour)
);
CREATE INDEX IF NOT EXISTS dead_letter_hours_hour ON dead_letter_hours (hour);
