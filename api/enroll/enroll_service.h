// Decides one enrollment: checks the code against the enrollment_codes read model, chooses the
// agent's identity (identity_choice.h), revokes the keys a re-enrollment retires, publishes the
// control events, ensures the agent's command consumer and mints the agent's user JWT (subject:
// the agent's own new public key; signed by the agent scoped key), sealed to that key.
//
// Concurrency: handle() from one thread at a time (the read model is one connection).
// Limitations: two enrollments of one new machine racing through two API instances may both get
// a new id; the read model is the arbiter, not a lock.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "admin/identity.h"
#include "admin/tenancy/control_publisher.h"
#include "admin/tenancy/read_model.h"
#include "common/clock.h"

namespace rmm::api::enroll {

// Revokes user keys at the broker (broker::revoke_user_keys with the installation's home, server
// config and pid). Called with the keys a proven re-enrollment retires, before AgentEnrolled is
// published: if it fails nothing is published, and the agent can retry with its current key.
using KeyRevoker = std::function<Status(const std::vector<std::string>& public_keys)>;

struct EnrollServiceOptions {
  // How long a reply waits for the projector to apply AgentEnrolled, so an immediate re-enroll
  // (or a read of the agent) finds it. Past it the reply goes out anyway.
  std::chrono::milliseconds projection_wait{5000};
  bool ensure_command_consumer = true;
};

class EnrollService {
 public:
  EnrollService(tenancy::ControlPublisher& publisher, broker::AgentSigner signer,
                KeyRevoker revoker, const Clock& clock, EnrollServiceOptions options = {});

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
  KeyRevoker revoker_;
  const Clock& clock_;
  EnrollServiceOptions options_;
};

}  // namespace rmm::api::enroll
