// The KeyRevoker of the enrollment responder in rmm-api: broker::revoke_user_keys on the
// installation home given as `--enroll-home`, with the rendered nats-server config and pid file
// found where tools/rmm keeps them (the same places POST /agents/{id}/revoke uses).
//
// Concurrency: revoke_user_keys serialises writers of one home with a file lock.
#pragma once

#include <filesystem>

#include "api/enroll/enroll_service.h"
#include "common/clock.h"
#include "common/nats_tls.h"

namespace rmm::api::enroll {

struct RevokerPaths {
  std::filesystem::path home;
  // Empty: <home>/nats/nats-server.conf if it exists, else <home>/nats-server.conf if it exists,
  // else none (a cluster node's config: the push carries the revocation).
  std::filesystem::path nats_config;
  // Empty: <home>/run/nats.pid. A missing or unreadable pid file means no reload: the revocation
  // then takes effect at the server's next reload (or the push below).
  std::filesystem::path pid_file;
  // The broker's URLs (the API's nats-url): the new account JWT is pushed to every server there
  // as the system user, which is how a cluster's nodes learn it. Empty: no push.
  std::string nats_url;
  nats::TlsClientOptions nats_tls;
};

KeyRevoker home_key_revoker(RevokerPaths paths, const Clock& clock);

}  // namespace rmm::api::enroll
