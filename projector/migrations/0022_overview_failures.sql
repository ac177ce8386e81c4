-- The overview's recent failures (api/routes/read_overview.cc): failed commands of the last day,
-- newest first, without reading every command. The predicate is the route's text, word for word,
-- so PostgreSQL can use this partial index for it. Applied once by rmm-projector; never edit after
-- release.
CREATE INDEX IF NOT EXISTS commands_failed ON commands (updated_at DESC)
  WHERE (status IN ('failed', 'timed_out', 'expired', 'rejected', 'interrupted') OR
         (status = 'completed' AND exit_code <> 0));
