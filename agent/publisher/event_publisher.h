// Publishes one agent event to JetStream and waits for the stream's ack, re-sending with the same
// Nats-Msg-Id (so the server drops duplicates) until acked or shutdown.
//
// Concurrency: used from the agent's main loop only.
// Limitations: synchronous, one event at a time; the agent issue replaces it with the RocksDB
// outbox and an async window.
#pragma once

#include <chrono>
#include <span>
#include <string>

#include "common/nats_jetstream.h"

namespace rmm::agent {

class EventPublisher {
 public:
  explicit EventPublisher(nats::JetStream& js) : js_(js) {}
  // false when shutdown was requested before the ack arrived.
  bool publish(const std::string& subject, std::span<const std::uint8_t> bytes,
               const std::string& msg_id);

 private:
  nats::JetStream& js_;
};

}  // namespace rmm::agent
