// Decides one enrollment: checks the code against the enrollment_codes read model, chooses the
// agent's identity, publishes the control events, ensures the agent's command consumer and mints
// the agent's user JWT (subject: the agent's own public key; signed by the agent scoped key).
//
// Identity rules (docs/enrollment.md):
// - the request names its previous agent id, and that agent (not revoked) has the same
//   fingerprint, or never enrolled by code: keep the id (re-enrollment);
// - it names an agent that has another fingerprint: CloneSuspected, and a new id for the newcomer;
// - it names none: a non-revoked agent with the same fingerprint keeps its id (reinstall);
//   otherwise a new UUIDv7.
//
// Concurrency: handle() from one thread at a time (the read model is one connection).
// Limitations: two enrollments of one new machine racing through two API instances may both get
// a new id; the read model is the arbiter, not a lock.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "admin/identity.h"
#include "admin/tenancy/control_publisher.h"
#include "admin/tenancy/read_model.h"
#include "common/clock.h"

namespace rmm::api::enroll {

struct EnrollServiceOptions {
  // How long a reply waits for the projector to apply AgentEnrolled, so an immediate re-enroll
  // (or a read of the agent) finds it. Past it the reply goes out anyway.
  std::chrono::milliseconds projection_wait{5000};
  bool ensure_command_consumer = true;
  // The command keys (hex public keys) an enrolled agent must trust: sent in every accepted
  // reply as "command_keys" (docs/command-signing.md).
  std::vector<std::string> command_keys;
};

class EnrollService {
 public:
  EnrollService(tenancy::ControlPublisher& publisher, broker::AgentSigner signer,
                const Clock& clock, EnrollServiceOptions options = {});

  struct Reply {
    std::string json;
    bool internal_error = false;  // the read model or broker failed: the caller resets them
  };
  // The reply to one request. `services` is a connection with the services credential (for the
  // command consumer). Never throws.
  Reply handle(std::span<const std::uint8_t> request, tenancy::TenancyReadModel& read_model,
               natsConnection* services);

 private:
  tenancy::ControlPublisher& publisher_;
  broker::AgentSigner signer_;
  const Clock& clock_;
  EnrollServiceOptions options_;
};

}  // namespace rmm::api::enroll
