-- Live-stream tickets (docs/api.md "Live updates"): EventSource cannot send an Authorization
-- header, and a session token in the stream's URL ends up in proxy logs and browser history.
-- The dashboard trades its session for a ticket instead (POST /api/v1/live/ticket): one stream,
-- used once (the row is deleted by the stream that names it), valid for 30 seconds, only its
-- SHA-256 stored. rmm-api's own table in the `auth` schema, like 0004 and 0016: never part of
-- the log. Applied once by rmm-projector; never edit after release: add a new migration instead.
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.live_tickets (
  ticket_hash bytea PRIMARY KEY,
  token_hash  bytea NOT NULL,  -- the session the ticket stands for (auth.sessions.token_hash)
  expires_at  timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS live_tickets_expiry ON auth.live_tickets (expires_at);

-- The audit log by target (GET /api/v1/audit?target_id=, and the previous enrollment of an agent
-- that the audit read compares to tell a re-enrollment that moved it to another site).
CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log (target_id, stream_seq DESC);
