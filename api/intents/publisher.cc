#include "api/intents/publisher.h"

#include "common/log.h"

namespace rmm::api::intents {
namespace {

constexpr int kCommandAttempts = 3;
constexpr std::chrono::milliseconds kAckTimeout{5000};

}  // namespace

std::string command_subject(const AgentId& agent) {
  return "rmm.cmd." + agent.str();
}

Result<std::unique_ptr<IntentPublisher>> IntentPublisher::create(nats::Connection& nc,
                                                                 const Clock& clock) {
  auto js = nats::JetStream::create(nc, {});
  if (!js) return std::unexpected(js.error());
  std::unique_ptr<IntentPublisher> p(new IntentPublisher());
  p->js_ = std::move(*js);
  p->control_ =
      std::make_unique<tenancy::ControlPublisher>(*p->js_, std::string(kSourceName), clock);
  return p;
}

Result<StreamSeq> IntentPublisher::publish(schema::Payload type,
                                           const tenancy::ControlPublisher::Build& build) {
  auto ack = control_->publish(type, build);
  if (!ack) return std::unexpected(ack.error());
  return ack->seq;
}

Result<StreamSeq> IntentPublisher::issue_command(const codec::CommandInfo& command,
                                                 std::string_view summary, const codec::Actor& by) {
  codec::CommandIssuedInfo issued{
      .command = command.id,
      .agent = command.agent,
      .kind = std::string(codec::command_kind(command.action)),
      .summary = std::string(summary),
      .timeout_ms = command.timeout_ms,
      .expires_at = command.expires_at,
      .by = by,
  };
  auto seq = publish(schema::Payload::CommandIssued, [&](const codec::ControlEventHeader& h) {
    return codec::build_command_issued(h, issued);
  });
  if (!seq) return std::unexpected(seq.error());

  auto bytes = codec::build_command(command);
  std::string subject = command_subject(command.agent);
  std::string msg_id = command.id.str();
  Result<nats::PubAck> ack = fail("not sent");
  for (int attempt = 1; attempt <= kCommandAttempts; ++attempt) {
    ack = js_->publish(subject, bytes, msg_id, kAckTimeout);
    if (ack) break;
    log::warn("intent.command_publish_retry",
              {{"command", msg_id}, {"attempt", attempt}, {"error", ack.error().message}});
  }
  if (!ack) {
    return std::unexpected(with_context(ack.error(),
                                        "publishing the command (CommandIssued is in "
                                        "the log)"));
  }
  return *seq;
}

}  // namespace rmm::api::intents
