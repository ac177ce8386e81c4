// Publishes control-plane events into RMM_EVENTS and waits for JetStream's ack. One publisher is
// one control-plane source: a fresh source id (UUIDv7) and msg id key per service instance, and a
// sequence that starts at 1 for that instance, so `<source id>:<seq>:<tag>` is a unique
// Nats-Msg-Id without any state on disk, and one no agent can send first (codec::control_msg_id).
//
// Concurrency: publish() is thread-safe; the sequence is assigned under a mutex, and a retry after
// a lost ack re-sends the same bytes with the same Nats-Msg-Id (the stream drops the duplicate).
// Limitations: synchronous (one ack wait per event): control events are rare.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/control_events.h"
#include "common/msg_ids.h"
#include "common/nats_jetstream.h"
#include "common/result.h"

namespace rmm::tenancy {

class ControlPublisher {
 public:
  ControlPublisher(nats::JetStream& js, std::string source_name, const Clock& clock,
                   std::chrono::milliseconds ack_timeout = std::chrono::seconds(5));

  const ControlSourceId& source() const { return source_; }

  // Builds the event with the next header and publishes it on its control subject. Returns the
  // stream's ack (its sequence is what a caller waits for to read its own write).
  using Build = std::function<std::vector<std::uint8_t>(const codec::ControlEventHeader&)>;
  Result<nats::PubAck> publish(schema::Payload type, const Build& build);

 private:
  nats::JetStream& js_;
  std::string source_name_;
  const Clock& clock_;
  std::chrono::milliseconds ack_timeout_;
  ControlSourceId source_;
  MsgIdKey key_ = MsgIdKey::generate();
  std::mutex mutex_;
  std::uint64_t last_seq_ = 0;
};

// "admin:<login name>" for events published by a person at a terminal.
std::string local_actor();

}  // namespace rmm::tenancy
