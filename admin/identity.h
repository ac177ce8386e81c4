// The broker identity of one GuruRMM installation: an operator, the system account SYS, the
// account RMM (JetStream, the event partition mapping, a scoped signing key for agents), a
// system user, and the users of the control plane:
//   services   the account's full rights: rmm-admin, rmm-release publish, tests. Operators only.
//   api        rmm-api: control events, commands, the enrollment responder, live events.
//   projector  rmm-projector: reads RMM_EVENTS and RMM_CONTROL, publishes clock ticks; it can
//              neither publish commands nor agent events (docs/architecture.md).
//   rollout    the rollout controller: rollout and command control events, commands.
//   enroll     shared by installers: may only ask to enroll (docs/enrollment.md).
// Each service may subscribe to its own inbox prefix only (common/service_inboxes.h).
//
// Layout under `<home>/nats/` (mode 0700): `keys/*.nk` seeds (dir 0700, files 0600), the
// account and operator JWTs, and one `<user>.creds` per user (0600).
//
// Concurrency: no locking; two concurrent `init_identity` on one home may each create keys, and
// the last writer wins. Run init once, from one process.
// Limitations: the JWTs are re-minted on every load, the same bytes from the same keys and
// revocations: the operator's and SYS's iat is kAccountClaimsEpoch (nats-server refuses to reload
// a changed operator JWT), the RMM account's its version (admin/revocations.h). The keys are what
// persist.
#pragma once

#include <filesystem>
#include <string>

#include "admin/nkeys.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::broker {

inline constexpr std::string_view kRmmAccountName = "RMM";
inline constexpr std::string_view kSysAccountName = "SYS";
// Enrollment (docs/enrollment.md): the enrollment user may only publish requests here and
// receive replies on inboxes under kEnrollInboxPrefix (which an enrolling agent sets).
inline constexpr std::string_view kEnrollSubject = "rmm.enroll.request";
inline constexpr std::string_view kEnrollInboxPrefix = "_INBOX_ENROLL";

struct Identity {
  std::filesystem::path dir;  // <home>/nats
  KeyPair operator_key;
  KeyPair sys_account;
  KeyPair rmm_account;
  KeyPair agent_signer;  // scoped signing key of RMM, role "agent"
  KeyPair services_user;
  KeyPair sys_user;
  KeyPair enroll_user;  // shared by every enrolling agent; can only ask to enroll
  KeyPair api_user;
  KeyPair projector_user;
  KeyPair rollout_user;
  std::string operator_jwt;
  std::string sys_account_jwt;
  std::string rmm_account_jwt;

  std::filesystem::path services_creds() const { return dir / "services.creds"; }
  std::filesystem::path sys_creds() const { return dir / "sys.creds"; }
  std::filesystem::path enroll_creds() const { return dir / "enroll.creds"; }
  std::filesystem::path api_creds() const { return dir / "api.creds"; }
  std::filesystem::path projector_creds() const { return dir / "projector.creds"; }
  std::filesystem::path rollout_creds() const { return dir / "rollout.creds"; }
};

// Creates the keys that are missing under `home`, loads those that exist, mints the JWTs and
// (re)writes the JWT and creds files. Idempotent: a second call yields the same keys.
Result<Identity> init_identity(const std::filesystem::path& home);
// Loads an existing identity (fails with kNotFound if `init_identity` never ran); writes nothing.
Result<Identity> load_identity(const std::filesystem::path& home);

// A `.creds` text for a new user key tagged `agent:<id>`, signed by the agent scoped key.
std::string mint_agent_creds(const Identity& identity, const AgentId& agent);
// The user JWT of an agent that enrolled with its own key pair: subject `agent_public_key`
// ("U..."), tag agent:<id>, signed by the agent scoped key of `account_public_key`. The agent
// pairs it with its own seed, which never leaves the agent.
std::string mint_agent_jwt(const KeyPair& agent_signer, std::string_view account_public_key,
                           const AgentId& agent, std::string_view agent_public_key);

// What the enrollment responder needs to sign agent credentials, and nothing more: the scoped
// signing key and the RMM account's public key (read from the account JWT, not its seed).
struct AgentSigner {
  KeyPair key;
  std::string account_public_key;
};
Result<AgentSigner> load_agent_signer(const std::filesystem::path& home);

// The inbox prefix an agent must set on its connection (natsOptions_SetCustomInboxPrefix).
std::string agent_inbox_prefix(const AgentId& agent);

}  // namespace rmm::broker
