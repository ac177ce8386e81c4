-- Tenancy (partners -> clients -> sites), enrollment codes and agent identities. Folded from the
-- control events of docs/enrollment.md. Applied once by rmm-projector; never edit after release.
--
-- No foreign keys: the projector must never stall on an event that refers to something it has not
-- seen (the intents check references before publishing; a replay applies events in log order).

CREATE TABLE partners (
  id         uuid PRIMARY KEY,
  name       text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Every client belongs to this partner until partners can be created (kDefaultPartnerId).
INSERT INTO partners (id, name) VALUES ('00000000-0000-7000-8000-000000000001', 'default');

CREATE TABLE clients (
  id         uuid PRIMARY KEY,
  partner_id uuid NOT NULL,
  name       text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL  -- event time
);
CREATE INDEX clients_partner ON clients (partner_id);

CREATE TABLE sites (
  id         uuid PRIMARY KEY,
  client_id  uuid NOT NULL,
  name       text NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX sites_client ON sites (client_id);

-- State only: the code itself is never stored, only its hash (SHA-256, see admin/tenancy).
CREATE TABLE enrollment_codes (
  id         uuid PRIMARY KEY,
  site_id    uuid NOT NULL,
  code_hash  text NOT NULL UNIQUE,
  expires_at timestamptz NOT NULL,
  revoked    boolean NOT NULL DEFAULT false,
  revoked_at timestamptz,
  revoked_by text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX enrollment_codes_site ON enrollment_codes (site_id);

-- Identity of enrolled agents. An agent enrolled by code has a site, its latest public key and
-- the hash of its machine fingerprint; agents with credentials minted by `rmm-admin
-- agent-credential` have none of these.
ALTER TABLE agents
  ADD COLUMN site_id            uuid,
  ADD COLUMN public_key         text,
  ADD COLUMN fingerprint_hash   text,
  ADD COLUMN enrollment_code_id uuid,
  ADD COLUMN enrolled_at        timestamptz,
  ADD COLUMN revoked_at         timestamptz;
CREATE INDEX agents_site ON agents (site_id);
CREATE INDEX agents_fingerprint ON agents (fingerprint_hash) WHERE revoked_at IS NULL;

-- Every key an agent ever enrolled with (a new key pair per enrollment): revoking an agent
-- revokes them all.
CREATE TABLE agent_keys (
  public_key  text PRIMARY KEY,
  agent_id    uuid NOT NULL,
  enrolled_at timestamptz NOT NULL,
  revoked_at  timestamptz
);
CREATE INDEX agent_keys_agent ON agent_keys (agent_id);

-- An identity presented from another machine (CloneSuspected).
CREATE TABLE clone_suspicions (
  stream_seq           bigint PRIMARY KEY,
  agent_id             uuid NOT NULL,
  new_agent_id         uuid NOT NULL,
  old_fingerprint_hash text NOT NULL,
  new_fingerprint_hash text NOT NULL,
  detected_at          timestamptz NOT NULL
);
CREATE INDEX clone_suspicions_agent ON clone_suspicions (agent_id);
