-- Sign-in with OpenID Connect (docs/api.md "Sign-in with OpenID Connect (SSO)"): rmm-api's own
-- tables in the `auth` schema, like the password store of 0004: never part of the log, written only
-- by rmm-api, untouched by a rebuild of the read models.
-- Applied once by rmm-projector; never edit after release: add a new migration instead.

-- Which provider identity signs in as which GuruRMM user. Only an owner or admin creates a row
-- (PUT /api/v1/users/{id}/sso): an identity without one gets no access, and no user is ever
-- created by a sign-in. `subject` is the configured claim (oidc-subject-claim: `sub`, or `oid` for
-- Entra ID) of a verified ID token from `issuer`.
CREATE SCHEMA IF NOT EXISTS auth;
CREATE TABLE IF NOT EXISTS auth.oidc_identities (
  issuer     text NOT NULL,
  subject    text NOT NULL,
  user_id    uuid NOT NULL,
  linked_by  uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX IF NOT EXISTS oidc_identities_user ON auth.oidc_identities (user_id);

-- Sign-ins under way: one row per authorization request, keyed by the SHA-256 of its `state`,
-- holding the PKCE verifier and the nonce. Taken (deleted) by the first callback that names the
-- state, so each is used at most once; expired rows are removed by later starts.
CREATE TABLE IF NOT EXISTS auth.oidc_pending (
  state_hash    bytea PRIMARY KEY,
  code_verifier text NOT NULL,
  nonce         text NOT NULL,
  expires_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oidc_pending_expiry ON auth.oidc_pending (expires_at);
