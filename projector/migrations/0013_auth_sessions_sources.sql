-- The API's credential store (schema auth, migration 0004), hardened (issue 16):
--   - an impersonation session names the session of the owner that started it, and is valid only
--     while that one is (the owner's logout, expiry or revocation ends it too);
--   - failed sign-ins are counted, and lock, per username and source address (docs/api.md), so a
--     stranger elsewhere cannot lock the owner out. Counts from before are dropped (they were
--     per username only; at most a lockout of 15 minutes is forgotten).
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- Not a read model (see 0004): a rebuild applies this again to a fresh schema and finds the auth
-- schema already changed, so every statement must stay idempotent.
ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS parent_token_hash bytea;

ALTER TABLE auth.login_failures ADD COLUMN IF NOT EXISTS source text NOT NULL DEFAULT '';
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint
                  WHERE conname = 'login_failures_source_pkey'
                    AND conrelid = 'auth.login_failures'::regclass) THEN
    DELETE FROM auth.login_failures;
    ALTER TABLE auth.login_failures DROP CONSTRAINT IF EXISTS login_failures_pkey;
    ALTER TABLE auth.login_failures
      ADD CONSTRAINT login_failures_source_pkey PRIMARY KEY (username, source);
  END IF;
END
$$;
