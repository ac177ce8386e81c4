#include "api/intents/publisher.h"

#include "common/command_signing.h"
#include "common/log.h"

namespace rmm::api::intents {
namespace {

constexpr int kCommandAttempts = 3;
constexpr std::chrono::milliseconds kAckTimeout{5000};
constexpr std::chrono::milliseconds kUsageTtl{2000};
constexpr std::string_view kCommandsStream = "RMM_COMMANDS";
// What nats-server's file store adds to a message's subject, headers and payload (a record
// header, sequence, timestamp and checksum); over-estimated so the check never lets through a
// command the stream would refuse.
constexpr std::size_t kRecordOverhead = 64;

std::unexpected<Error> commands_full() {
  return fail(Error::Code::kFull,
              "the command queue is full, so the command was not sent; an operator must raise "
              "the RMM_COMMANDS limit (rmm-admin apply-streams --commands-max-bytes)");
}

}  // namespace

std::string command_subject(const AgentId& agent) {
  return "rmm.cmd." + agent.str();
}

Result<std::unique_ptr<IntentPublisher>> IntentPublisher::create(
    nats::Connection& nc, const Clock& clock, std::optional<broker::CommandSigner> signer) {
  auto js = nats::JetStream::create(nc, {});
  if (!js) return std::unexpected(js.error());
  std::unique_ptr<IntentPublisher> p(new IntentPublisher());
  p->js_ = std::move(*js);
  p->signer_ = std::move(signer);
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

Result<StreamSeq> IntentPublisher::issue_command(const codec::CommandInfo& original,
                                                 std::string_view summary, const codec::Actor& by,
                                                 const UuidBytes& batch) {
  if (!signer_) {
    return fail(Error::Code::kTimeout,
                "rmm-api has no command key (setting command-keys): commands cannot be signed");
  }
  codec::CommandInfo command = original;
  if (auto* trust = std::get_if<codec::TrustCommandKeysSpec>(&command.action)) {
    trust->public_keys.clear();
    for (const auto& k : signer_->trusted) {
      trust->public_keys.push_back(signing::public_key_hex(k.public_key));
    }
  }
  auto bytes = codec::build_signed_command(command, signer_->key);
  std::string subject = command_subject(command.agent);
  std::string msg_id = command.id.str();
  // "Nats-Msg-Id: <id>\r\n" inside the "NATS/1.0\r\n...\r\n" header block.
  const std::size_t headers = 12 + 13 + msg_id.size() + 4;
  if (auto room = reserve_command_room(bytes.size() + subject.size() + headers); !room) {
    return std::unexpected(room.error());
  }
  codec::CommandIssuedInfo issued{
      .command = command.id,
      .agent = command.agent,
      .kind = std::string(codec::command_kind(command.action)),
      .summary = std::string(summary),
      .timeout_ms = command.timeout_ms,
      .expires_at = command.expires_at,
      .by = by,
      .batch = batch,
  };
  auto seq = publish(schema::Payload::CommandIssued, [&](const codec::ControlEventHeader& h) {
    return codec::build_command_issued(h, issued);
  });
  if (!seq) return std::unexpected(seq.error());
  Result<nats::PubAck> ack = fail("not sent");
  for (int attempt = 1; attempt <= kCommandAttempts; ++attempt) {
    ack = js_->publish(subject, bytes, msg_id, kAckTimeout);
    if (ack) break;
    log::warn("intent.command_publish_retry",
              {{"command", msg_id}, {"attempt", attempt}, {"error", ack.error().message}});
  }
  if (!ack) {
    if (ack.error().code == Error::Code::kFull) {
      log::error("intent.command_refused_full",
                 {{"command", msg_id}, {"error", ack.error().message}});
      return commands_full();
    }
    return std::unexpected(with_context(ack.error(),
                                        "publishing the command (CommandIssued is in "
                                        "the log)"));
  }
  return *seq;
}

Status IntentPublisher::reserve_command_room(std::size_t bytes) {
  std::lock_guard lock(usage_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!commands_usage_ || now - usage_read_at_ >= kUsageTtl) {
    auto usage = nats::read_stream_usage(js_->raw(), std::string(kCommandsStream));
    if (!usage) {
      // Unknown room: the publish itself will tell (and is refused, not dropped, when full).
      log::warn("intent.commands_usage_unknown", {{"error", usage.error().message}});
      commands_usage_.reset();
      return {};
    }
    commands_usage_ = std::move(*usage);
    usage_read_at_ = now;
  }
  auto& u = *commands_usage_;
  const std::uint64_t need = bytes + kRecordOverhead;
  const bool no_bytes = u.max_bytes > 0 && u.bytes + need > static_cast<std::uint64_t>(u.max_bytes);
  const bool no_slot = u.max_msgs > 0 && u.messages + 1 > static_cast<std::uint64_t>(u.max_msgs);
  if (no_bytes || no_slot) {
    log::error("intent.commands_full", {{"bytes", u.bytes},
                                        {"max_bytes", u.max_bytes},
                                        {"messages", u.messages},
                                        {"max_msgs", u.max_msgs}});
    return commands_full();
  }
  u.bytes += need;  // ours, until the next reading
  u.messages += 1;
  return {};
}

}  // namespace rmm::api::intents
