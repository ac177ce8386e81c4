// Which agent id an enrollment gets (docs/enrollment.md, "What the responder decides").
//
// A fingerprint is not a secret (it is in the agent's inventory), and neither is an agent id, so
// neither alone ever returns an existing identity. An id is kept only when the request proves
// possession of that agent's current key (ReenrollProof), the machine is the same (fingerprint),
// and the code belongs to the agent's own client:
// - proof valid, same fingerprint, same client: the id is kept; every other key of the agent is
//   retired (revoked at the broker);
// - proof valid, same fingerprint, another client: refused (kOtherClient): an agent never crosses
//   a tenant boundary by enrollment; its owner revokes it first;
// - proof valid but from another machine (a copied state directory, a cloned VM): a new id, and
//   CloneSuspected names the original;
// - proof signed correctly but too old or too far in the future: refused (kStaleProof);
// - anything else (no proof, a wrong key, a bad signature, an unknown or revoked agent): a new id,
//   with CloneSuspected when the named agent or the fingerprint matches a known agent.
//
// Concurrency: one thread at a time per read model.
// Limitations: a reinstall that lost its state directory gets a new id (the old one stays, with a
// clone suspicion, until revoked); a lost reply to an accepted re-enrollment leaves the agent with
// a retired key, so its next attempt is treated the same way.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "admin/tenancy/read_model.h"
#include "api/enroll/enroll_protocol.h"
#include "common/clock.h"
#include "common/control_events.h"

namespace rmm::api::enroll {

// How far a proof's issued_at may be from the responder's clock, either way.
inline constexpr std::chrono::seconds kProofSkew{600};

struct IdentityChoice {
  AgentId agent{};
  bool reenrolled = false;
  std::vector<std::string> retired_keys{};  // kept identities only: the agent's other keys
  // A kept identity enrolling with another site's code (of its own client) moves to that site:
  // the site it leaves, so the responder can say so (docs/enrollment.md).
  std::optional<SiteId> moved_from{};
  std::optional<codec::CloneSuspectedInfo> clone{};
  // Set when the request is refused; nothing else is then meaningful.
  std::optional<Refusal> refusal{};
  std::string refusal_message{};
};

// kGeneric when the read model fails (its text is for the log only).
Result<IdentityChoice> choose_identity(const EnrollRequest& req, const std::string& fp_hash,
                                       const tenancy::CodeRow& code, tenancy::TenancyReadModel& rm,
                                       const Clock& clock);

}  // namespace rmm::api::enroll
