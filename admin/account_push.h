// Account JWTs over NATS, as the system user: what nats-server's own account resolvers answer.
//   lookup  $SYS.REQ.ACCOUNT.<account>.CLAIMS.LOOKUP: every server with a `full` resolver
//           replies with the JWT it stores (a MEMORY resolver does not answer).
//   push    $SYS.REQ.ACCOUNT.<account>.CLAIMS.UPDATE: every server that receives it takes the
//           JWT if the operator signed it: a `full` resolver stores it in its directory (so a
//           restart keeps it), a MEMORY one applies it to the account in memory only. Either way
//           the new claims apply at once: connections of a revoked user are closed.
// Both are requests that every server of a cluster receives through its routes and answers; the
// replies are gathered until one per expected server has come, or quiet_after passes without a
// new one after the first, or the timeout.
//
// Checked on nats-server 2.9.10 by tests/broker/revocation_cluster_test.cc.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::broker {

struct GatherOptions {
  int expected = 1;  // stop once this many servers replied
  std::chrono::milliseconds timeout{3000};
  std::chrono::milliseconds quiet_after{300};
};

// The JWTs the servers hold for `account` (one per replying server; none on MEMORY resolvers).
Result<std::vector<std::string>> lookup_account_jwts(natsConnection* nc, std::string_view account,
                                                     const GatherOptions& options);

struct PushReply {
  std::string server;  // the replying server's name
  bool ok = false;
  std::string message;  // the server's "jwt updated" or its error
};

// Pushes `jwt` (of `account`); fails when no server replied.
Result<std::vector<PushReply>> push_account_jwt(natsConnection* nc, std::string_view account,
                                                std::string_view jwt, const GatherOptions& options);

// How many URLs a comma-separated NATS URL list holds: the servers a push expects to hear from.
int url_count(std::string_view urls);

}  // namespace rmm::broker
