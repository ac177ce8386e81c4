-- Two-factor authentication (TOTP, RFC 6238) in the API's credential store (schema auth, migration
-- 0004): the secrets live here like password hashes, never in the log (docs/api.md).
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- Not a read model (see 0004): a rebuild applies this again to a fresh schema and finds the auth
-- schema already there, so every statement must stay idempotent.

-- A user's authenticator secret. Unconfirmed (confirmed_at NULL) from enrolment until the first
-- code from the app proves it holds the secret; only a confirmed row asks for a second factor.
CREATE TABLE IF NOT EXISTS auth.totp (
  user_id      uuid PRIMARY KEY,
  secret       bytea NOT NULL,       -- 20 random bytes; the HMAC-SHA1 key shared with the app
  created_at   timestamptz NOT NULL,
  confirmed_at timestamptz,
  last_step    bigint NOT NULL DEFAULT -1  -- the last 30 s step accepted: each code is good once
);

-- Single-use recovery codes (10 per enrolment; a new enrolment replaces them).
CREATE TABLE IF NOT EXISTS auth.totp_recovery_codes (
  user_id   uuid NOT NULL,
  code_hash bytea NOT NULL,  -- SHA-256 of the normalized code (80 random bits)
  used_at   timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

-- Sign-ins past the password, waiting for the second factor: what the short-lived token the client
-- holds between the two steps stands for. `enroll` when the user's role requires TOTP and it has
-- none yet: the token then also allows enrolling (POST /api/v1/auth/login/enroll-totp).
CREATE TABLE IF NOT EXISTS auth.pending_logins (
  token_hash bytea PRIMARY KEY,  -- SHA-256 of the token; the token is never stored
  user_id    uuid NOT NULL,
  source     text NOT NULL,      -- the address that passed the password step
  enroll     boolean NOT NULL,
  attempts   integer NOT NULL DEFAULT 0,
  expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS pending_logins_expiry ON auth.pending_logins (expires_at);
