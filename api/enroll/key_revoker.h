// The KeyRevoker of the enrollment responder in rmm-api: broker::revoke_user_keys on the
// installation home given as `--enroll-home`, with the rendered nats-server config and pid file
// found where tools/rmm keeps them (the same places POST /agents/{id}/revoke uses).
//
// Concurrency: revoke_user_keys serialises writers of one home with a file lock.
#pragma once

#include <filesystem>

#include "api/enroll/enroll_service.h"
#include "common/clock.h"

namespace rmm::api::enroll {

struct RevokerPaths {
  std::filesystem::path home;
  // Empty: <home>/nats/nats-server.conf if it exists, else <home>/nats-server.conf.
  std::filesystem::path nats_config;
  // Empty: <home>/run/nats.pid. A missing or unreadable pid file means no reload: the revocation
  // then takes effect at the server's next reload.
  std::filesystem::path pid_file;
};

KeyRevoker home_key_revoker(RevokerPaths paths, const Clock& clock);

}  // namespace rmm::api::enroll
