#include "agent/publisher/event_publisher.h"

#include <algorithm>

#include "common/log.h"
#include "common/shutdown.h"

namespace rmm::agent {

bool EventPublisher::publish(const std::string& subject, std::span<const std::uint8_t> bytes,
                             const std::string& msg_id) {
  std::chrono::milliseconds backoff{250};
  constexpr std::chrono::milliseconds kMaxBackoff{5000};
  while (!shutdown::requested()) {
    auto ack = js_.publish(subject, bytes, msg_id, std::chrono::seconds(5));
    if (ack) {
      log::debug("event.acked", {{"msg_id", msg_id}, {"stream_seq", ack->seq.value},
                                 {"duplicate", ack->duplicate}});
      return true;
    }
    log::warn("event.publish_failed", {{"msg_id", msg_id}, {"error", ack.error().message},
                                       {"retry_in_ms", backoff.count()}});
    if (shutdown::wait_for(backoff)) break;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  return false;
}

}  // namespace rmm::agent
