// Tenancy and enrollment intents, as a library: rmm-admin calls it today, the API's routes will
// call it later. Each intent validates its input (and, given a read model, that what it refers to
// exists), publishes one control event and returns the ids plus the event's stream sequence (for
// read-your-writes through TenancyReadModel::wait_for_projection).
//
// Concurrency: as thread-safe as the ControlPublisher and read model given (the read model is
// single-threaded: give each thread its own Intents).
// Limitations: existence checks read the projection, so they can lag a just-created parent; the
// callers wait for projection after creating (rmm-admin does, bounded).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "admin/tenancy/control_publisher.h"
#include "admin/tenancy/read_model.h"
#include "common/clock.h"
#include "common/control_events.h"
#include "common/result.h"

namespace rmm::tenancy {

inline constexpr std::size_t kMaxNameChars = 200;

struct Created {
  UuidBytes id{};
  StreamSeq stream_seq;
};

struct CreatedCode {
  EnrollmentCodeId id;
  std::string code;  // the plain code: shown once to whoever asked, never stored or logged
  UnixNanos expires_at = 0;
  StreamSeq stream_seq;
};

struct RevokedAgent {
  std::vector<std::string> public_keys;
  StreamSeq stream_seq;
};

class Intents {
 public:
  // `read_model` may be null: then nothing is checked for existence (and revoke_agent fails).
  Intents(ControlPublisher& publisher, TenancyReadModel* read_model, const Clock& clock)
      : publisher_(publisher), read_model_(read_model), clock_(clock) {}

  // While an owner impersonates a user (the API's actor), every event also names the owner.
  void set_impersonator(std::string_view owner) { impersonator_ = owner; }

  Result<Created> create_client(std::string_view name, std::string_view actor);
  Result<Created> create_site(const ClientId& client, std::string_view name,
                              std::string_view actor);
  // `ttl` may be negative (a code that is already expired: tests).
  Result<CreatedCode> create_enrollment_code(const SiteId& site, std::chrono::milliseconds ttl,
                                             std::string_view actor);
  Result<Created> revoke_enrollment_code(const EnrollmentCodeId& code, std::string_view actor);
  // Publishes AgentRevoked with every key the agent ever enrolled; the broker side (the account
  // JWT's revocations) is broker::revoke_user_keys, done by whoever holds the operator key.
  Result<RevokedAgent> revoke_agent(const AgentId& agent, std::string_view actor,
                                    std::string_view reason);

 private:
  ControlPublisher& publisher_;
  TenancyReadModel* read_model_;
  const Clock& clock_;
  std::string impersonator_;
};

}  // namespace rmm::tenancy
