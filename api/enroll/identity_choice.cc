#include "api/enroll/identity_choice.h"

#include "admin/enroll_crypto.h"
#include "common/log.h"

namespace rmm::api::enroll {
namespace {

using tenancy::AgentIdentityRow;

enum class Proof { kNone, kValid, kStale };

// Checks the proof against the named agent's current key. A proof by any other key, or one that
// does not verify, counts as no proof at all (logged: it is either an attack or an agent whose key
// was already retired).
Proof check_proof(const EnrollRequest& req, const AgentIdentityRow& named, const Clock& clock) {
  if (!req.proof) return Proof::kNone;
  const auto& p = *req.proof;
  if (named.public_key.empty() || p.public_key != named.public_key) {
    log::warn("enroll.proof_wrong_key", {{"agent_id", named.id.str()}});
    return Proof::kNone;
  }
  auto message = broker::reenroll_proof_message(named.id, req.public_key, req.code, p.issued_at);
  if (!broker::verify_signature(p.public_key, message, p.signature)) {
    log::warn("enroll.proof_invalid", {{"agent_id", named.id.str()}});
    return Proof::kNone;
  }
  const std::int64_t now_s = clock.now() / 1'000'000'000;
  const std::int64_t skew = kProofSkew.count();
  if (p.issued_at < now_s - skew || p.issued_at > now_s + skew) {
    // The times themselves, not their difference, which could overflow.
    log::warn("enroll.proof_stale",
              {{"agent_id", named.id.str()}, {"issued_at", p.issued_at}, {"now", now_s}});
    return Proof::kStale;
  }
  return Proof::kValid;
}

IdentityChoice fresh(const std::string& fp_hash, const std::optional<AgentIdentityRow>& suspect,
                     const Clock& clock) {
  IdentityChoice c{AgentId::generate(clock)};
  // A clone suspicion needs the original's fingerprint (agents whose credentials were minted by
  // rmm-admin have none).
  if (suspect && !suspect->fingerprint_hash.empty()) {
    c.clone = codec::CloneSuspectedInfo{suspect->id, suspect->fingerprint_hash, fp_hash, c.agent};
  }
  return c;
}

IdentityChoice refused(Refusal why, std::string message) {
  IdentityChoice c;
  c.refusal = why;
  c.refusal_message = std::move(message);
  return c;
}

}  // namespace

Result<IdentityChoice> choose_identity(const EnrollRequest& req, const std::string& fp_hash,
                                       const tenancy::CodeRow& code, tenancy::TenancyReadModel& rm,
                                       const Clock& clock) {
  std::optional<AgentIdentityRow> named;
  if (req.previous_agent) {
    auto row = rm.find_agent(*req.previous_agent);
    if (!row) return std::unexpected(row.error());
    if (*row && !(*row)->revoked) named = **row;
  }
  if (named) {
    switch (check_proof(req, *named, clock)) {
      case Proof::kStale:
        return refused(Refusal::kStaleProof,
                       "the re-enrollment proof's time is too far from the server's: check this "
                       "machine's clock");
      case Proof::kValid: {
        // The key travelled with a copied state directory: the copy is someone else.
        if (named->fingerprint_hash != fp_hash) return fresh(fp_hash, named, clock);
        if (!named->client || !code.client || *named->client != *code.client) {
          log::warn("enroll.other_client",
                    {{"agent_id", named->id.str()}, {"code_site_id", code.site.str()}});
          return refused(Refusal::kOtherClient,
                         "this agent belongs to another client: its owner must revoke it before "
                         "it can enroll here");
        }
        auto keys = rm.agent_public_keys(named->id);
        if (!keys) return std::unexpected(keys.error());
        IdentityChoice c{named->id, true};
        if (named->site && *named->site != code.site) c.moved_from = named->site;
        for (auto& k : *keys) {
          if (k != req.public_key) c.retired_keys.push_back(std::move(k));
        }
        return c;
      }
      case Proof::kNone:
        // Someone named an identity it cannot prove: never hand it out.
        return fresh(fp_hash, named, clock);
    }
  }
  auto same_machine = rm.find_agent_by_fingerprint(fp_hash);
  if (!same_machine) return std::unexpected(same_machine.error());
  return fresh(fp_hash, *same_machine, clock);
}

}  // namespace rmm::api::enroll
