#include "api/enroll/enroll_service.h"

#include "admin/command_consumer.h"
#include "admin/tenancy/enrollment_codes.h"
#include "api/enroll/enroll_protocol.h"
#include "api/enroll/identity_choice.h"
#include "common/control_events.h"
#include "common/log.h"

namespace rmm::api::enroll {

EnrollService::EnrollService(tenancy::ControlPublisher& publisher, broker::AgentSigner signer,
                             KeyRevoker revoker, const Clock& clock, EnrollServiceOptions options)
    : publisher_(publisher),
      signer_(std::move(signer)),
      revoker_(std::move(revoker)),
      clock_(clock),
      options_(options) {}

EnrollService::Reply EnrollService::handle(std::span<const std::uint8_t> request,
                                           tenancy::TenancyReadModel& rm,
                                           natsConnection* services) {
  auto req = parse_enroll_request(request);
  if (!req) {
    const bool old = req.error().code == Error::Code::kNotSupported;
    log::info("enroll.refused", {{"reason", old ? "unsupported_version" : "bad_request"},
                                 {"detail", req.error().message}});
    return Reply{refused_reply(old ? Refusal::kUnsupportedVersion : Refusal::kBadRequest,
                               req.error().message)};
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
  // A key is enrolled once: a credential for somebody else's key would be useless to the asker,
  // but it would tie that key to a second identity.
  auto known_key = rm.public_key_enrolled(req->public_key);
  if (!known_key) return unavailable(known_key.error());
  if (*known_key) {
    return refuse(Refusal::kBadRequest, "this public key is already enrolled: make a new key pair");
  }

  std::string fp_hash = fingerprint_hash(req->fingerprint);
  auto identity = choose_identity(*req, fp_hash, **code, rm, clock_);
  if (!identity) return unavailable(identity.error());
  if (identity->refusal) return refuse(*identity->refusal, identity->refusal_message);

  if (options_.ensure_command_consumer) {
    if (auto s = broker::ensure_agent_command_consumer(services, identity->agent); !s) {
      return unavailable(with_context(s.error(), "command consumer"));
    }
  }
  // The old keys go before the event: until AgentEnrolled is applied the agent's current key is
  // still the one it proved, so a failure here or below can be retried with it.
  if (!identity->retired_keys.empty()) {
    if (auto s = revoker_(identity->retired_keys); !s) {
      return unavailable(with_context(s.error(), "revoking the retired keys"));
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
  codec::AgentEnrolledInfo enrolled{
      identity->agent, (*code)->site, req->public_key,      fp_hash,
      (*code)->id,     req->hostname, identity->reenrolled, identity->retired_keys};
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
  if (identity->moved_from) {
    // Not refused (the machine is its client's to place), but never silent: the log, the reply
    // and the audit log (GET /audit: moved_from_site_id) all say where it came from.
    log::warn("enroll.moved_site", {{"agent_id", identity->agent.str()},
                                    {"from_site_id", identity->moved_from->str()},
                                    {"to_site_id", (*code)->site.str()}});
  }
  auto reply = accepted_reply(identity->agent, (*code)->site.str(), jwt, identity->reenrolled,
                              req->public_key, options_.command_keys,
                              identity->moved_from ? identity->moved_from->str() : std::string());
  if (!reply) return unavailable(with_context(reply.error(), "sealing the reply"));
  log::info("enroll.accepted", {{"agent_id", identity->agent.str()},
                                {"site_id", (*code)->site.str()},
                                {"reenrolled", identity->reenrolled ? "true" : "false"},
                                {"retired_keys", identity->retired_keys.size()}});
  return Reply{std::move(*reply)};
}

}  // namespace rmm::api::enroll
