// rmm-api's NATS connection. In this slice it only answers "are we connected?" for /healthz.
//
// The connection retries forever, including a first connect that fails, so the API starts while
// the broker is down and recovers without a restart. (Raw nats.c rather than
// common/nats_connection: with retry-on-failed-connect, nats.c 3.4.1 retries *inside*
// natsConnection_Connect unless a connected callback is set, which with infinite reconnect blocks
// startup forever.)
//
// Concurrency: connected() is thread-safe (nats.c locks internally).
// Limitations: owns no subscriptions; the caller owns nats_Close() at process exit.
#pragma once

#include <nats/nats.h>

#include <memory>
#include <string>

#include "common/result.h"

namespace rmm::api {

class NatsLink {
 public:
  // `creds` is a .creds file for natsOptions_SetUserCredentialsFromFiles, or empty for none.
  // Fails only on invalid options (bad URL or unreadable creds), not on an unreachable server.
  static Result<std::unique_ptr<NatsLink>> connect(const std::string& url,
                                                   const std::string& creds);
  ~NatsLink();
  NatsLink(const NatsLink&) = delete;
  NatsLink& operator=(const NatsLink&) = delete;

  bool connected() const;

 private:
  NatsLink() = default;
  natsOptions* opts_ = nullptr;
  natsConnection* conn_ = nullptr;
};

}  // namespace rmm::api
