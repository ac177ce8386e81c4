#include "api/enroll/enroll_service.h"

#include "admin/command_consumer.h"
#include "admin/tenancy/enrollment_codes.h"
#include "api/enroll/enroll_protocol.h"
#include "common/control_events.h"
#include "common/log.h"

namespace rmm::api::enroll {
namespace {

struct Identity {
  AgentId agent;
  bool reenrolled = false;
  std::optional<codec::CloneSuspectedInfo> clone;
};

// Chooses the identity by the rules in the header.
Result<Identity> choose_identity(const EnrollRequest& req, const std::string& fp_hash,
                                 tenancy::TenancyReadModel& rm, const Clock& clock) {
  if (req.previous_agent) {
    auto row = rm.find_agent(*req.previous_agent);
    if (!row) return std::unexpected(row.error());
    if (*row && !(*row)->revoked) {
      const auto& known = **row;
      if (known.fingerprint_hash.empty() || known.fingerprint_hash == fp_hash) {
        return Identity{known.id, true, std::nullopt};
      }
      AgentId fresh = AgentId::generate(clock);
      return Identity{fresh, false,
                      codec::CloneSuspectedInfo{known.id, known.fingerprint_hash, fp_hash, fresh}};
    }
  }
  auto same_machine = rm.find_agent_by_fingerprint(fp_hash);
  if (!same_machine) return std::unexpected(same_machine.error());
  if (*same_machine) return Identity{(*same_machine)->id, true, std::nullopt};
  return Identity{AgentId::generate(clock), false, std::nullopt};
}

}  // namespace

EnrollService::EnrollService(tenancy::ControlPublisher& publisher, broker::AgentSigner signer,
                             const Clock& clock, EnrollServiceOptions options)
    : publisher_(publisher), signer_(std::move(signer)), clock_(clock), options_(options) {}

EnrollService::Reply EnrollService::handle(std::span<const std::uint8_t> request,
                                           tenancy::TenancyReadModel& rm,
                                           natsConnection* services) {
  auto req = parse_enroll_request(request);
  if (!req) {
    log::info("enroll.refused", {{"reason", "bad_request"}, {"detail", req.error().message}});
    return Reply{refused_reply(Refusal::kBadRequest, req.error().message)};
  }
  auto unavailable = [&](const Error& e) {
    // Driver and broker text stays in our log; the client learns only to retry later.
    log::error("enroll.failed", {{"error", e.message}});
    return Reply{refused_reply(Refusal::kUnavailable, "enrollment is unavailable; retry later"),
                 true};
  };
  auto refuse = [&](Refusal why, std::string_view message) {
    log::info("enroll.refused", {{"reason", refusal_token(why)}, {"hostname", req->hostname}});
    return Reply{refused_reply(why, message)};
  };

  auto normalised = tenancy::normalise_enrollment_code(req->code);
  if (!normalised) return refuse(Refusal::kUnknownCode, "unknown enrollment code");
  auto code = rm.find_code_by_hash(tenancy::enrollment_code_hash(*normalised));
  if (!code) return unavailable(code.error());
  if (!*code) return refuse(Refusal::kUnknownCode, "unknown enrollment code");
  if ((*code)->revoked) return refuse(Refusal::kCodeRevoked, "the enrollment code was revoked");
  if ((*code)->expires_at <= clock_.now()) {
    return refuse(Refusal::kCodeExpired, "the enrollment code has expired");
  }

  std::string fp_hash = fingerprint_hash(req->fingerprint);
  auto identity = choose_identity(*req, fp_hash, rm, clock_);
  if (!identity) return unavailable(identity.error());

  if (options_.ensure_command_consumer) {
    if (auto s = broker::ensure_agent_command_consumer(services, identity->agent); !s) {
      return unavailable(with_context(s.error(), "command consumer"));
    }
  }
  if (identity->clone) {
    auto ack = publisher_.publish(schema::Payload::CloneSuspected, [&](const auto& h) {
      return codec::build_clone_suspected(h, *identity->clone);
    });
    if (!ack) return unavailable(ack.error());
    log::warn("enroll.clone_suspected", {{"agent_id", identity->clone->agent.str()},
                                         {"new_agent_id", identity->agent.str()}});
  }
  codec::AgentEnrolledInfo enrolled{identity->agent, (*code)->site, req->public_key,     fp_hash,
                                    (*code)->id,     req->hostname, identity->reenrolled};
  auto ack = publisher_.publish(schema::Payload::AgentEnrolled, [&](const auto& h) {
    return codec::build_agent_enrolled(h, enrolled);
  });
  if (!ack) return unavailable(ack.error());
  auto projected = rm.wait_for_projection(ack->seq, options_.projection_wait);
  if (!projected || !*projected) {
    log::warn("enroll.projection_lag",
              {{"agent_id", identity->agent.str()}, {"stream_seq", ack->seq.value}});
  }
  std::string jwt = broker::mint_agent_jwt(signer_.key, signer_.account_public_key, identity->agent,
                                           req->public_key);
  log::info("enroll.accepted", {{"agent_id", identity->agent.str()},
                                {"site_id", (*code)->site.str()},
                                {"reenrolled", identity->reenrolled ? "true" : "false"}});
  return Reply{accepted_reply(identity->agent, (*code)->site.str(), jwt, identity->reenrolled,
                              options_.command_keys)};
}

}  // namespace rmm::api::enroll
