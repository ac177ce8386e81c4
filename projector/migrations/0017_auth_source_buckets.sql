-- Attempts per source address (docs/api.md "Authentication", docs/operations.md "Several APIs"):
-- the token buckets that bound how often one address may try a sign-in or an enrollment code,
-- kept here so that every rmm-api behind a load balancer takes from the same bucket (they were in
-- each process's memory). rmm-api's own table, like the rest of `auth` (migration 0004): written
-- only by rmm-api, never part of the log, untouched by a rebuild of the read models.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- Not a read model (see 0004): a rebuild applies this again to a fresh schema and finds the auth
-- schema already changed, so every statement must stay idempotent.
CREATE SCHEMA IF NOT EXISTS auth;

-- One row per (kind, source): `tokens` as of `updated_at` (refilled lazily by the next take).
-- `kind` keeps the limits apart: 'sign_in' (password and second-factor steps), 'enroll_code'
-- (GET /install/enroll.creds). A row idle long enough to be full again says no more than a
-- missing one, so rmm-api deletes those, and the rows idle longest past a cap (api/auth/
-- source_limiter.h).
CREATE TABLE IF NOT EXISTS auth.source_buckets (
  kind       text NOT NULL,
  source     text NOT NULL,              -- login_source(): an IPv4 address or an IPv6 /64
  tokens     double precision NOT NULL,  -- attempts left, at most the burst
  taken      boolean NOT NULL,           -- whether the last take found an attempt
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (kind, source)
);
CREATE INDEX IF NOT EXISTS source_buckets_idle ON auth.source_buckets (kind, updated_at);
