-- The API's credential store (schema auth, migration 0004), hardened (issue 16):
--   - an impersonation session names the session of the owner that started it, and is valid only
--     while that one is (the owner's logout, expiry or revocation ends it too).
-- Applied once by rmm-projector; never edit after release: add a new migration instead.
--
-- Not a read model (see 0004): a rebuild applies this again to a fresh schema and finds the auth
-- schema already changed, so every statement must stay idempotent.
ALTER TABLE auth.sessions ADD COLUMN IF NOT EXISTS parent_token_hash bytea;
