#include "admin/tenancy/control_publisher.h"

#include <pwd.h>
#include <unistd.h>

#include "common/log.h"

namespace rmm::tenancy {
namespace {

constexpr int kPublishAttempts = 3;

}  // namespace

ControlPublisher::ControlPublisher(nats::JetStream& js, std::string source_name, const Clock& clock,
                                   std::chrono::milliseconds ack_timeout)
    : js_(js),
      source_name_(std::move(source_name)),
      clock_(clock),
      ack_timeout_(ack_timeout),
      source_(ControlSourceId::generate(clock)) {}

Result<nats::PubAck> ControlPublisher::publish(schema::Payload type, const Build& build) {
  std::string subject = codec::control_event_subject(type);
  if (subject.empty()) return fail(Error::Code::kInvalidInput, "not a control event type");
  // The sequence is held for the whole publish so events of one source reach the stream in
  // sequence order.
  std::lock_guard lock(mutex_);
  codec::ControlEventHeader h{EventId::generate(clock_), source_, source_name_, last_seq_ + 1,
                              clock_.now()};
  // Consumed even if every attempt fails: the first may have landed with its ack lost, and reusing
  // its Nats-Msg-Id for other bytes would have the stream drop them as a duplicate.
  last_seq_ = h.seq;
  auto bytes = build(h);
  auto msg_id = codec::control_msg_id(source_, h.seq, key_);
  Result<nats::PubAck> ack = fail("not sent");
  for (int attempt = 1; attempt <= kPublishAttempts; ++attempt) {
    ack = js_.publish(subject, bytes, msg_id, ack_timeout_);
    if (ack) break;
    log::warn("control.publish_retry",
              {{"subject", subject}, {"attempt", attempt}, {"error", ack.error().message}});
  }
  return ack;
}

std::string local_actor() {
  const passwd* pw = ::getpwuid(::geteuid());
  return "admin:" + std::string(pw != nullptr && pw->pw_name != nullptr ? pw->pw_name : "unknown");
}

}  // namespace rmm::tenancy
