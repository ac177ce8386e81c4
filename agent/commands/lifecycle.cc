#include "agent/commands/lifecycle.h"

namespace rmm::agent {

template <class Build>
Status Lifecycle::append(schema::Payload type, Build build) {
  auto seq = outbox_.append(
      EventClass::kDurable, type,
      [&](AgentSeq s) {
        return build(codec::AgentEventHeader{EventId::generate(clock_), agent_, s, clock_.now()});
      },
      AppendOptions{.sync = true});
  if (!seq) return std::unexpected(seq.error());
  return {};
}

Status Lifecycle::received(const codec::CommandReceivedInfo& v) {
  return append(schema::Payload::CommandReceived,
                [&](const auto& h) { return codec::build_command_received(h, v); });
}

Status Lifecycle::started(const CommandId& id, std::uint32_t pid) {
  return append(schema::Payload::CommandStarted,
                [&](const auto& h) { return codec::build_command_started(h, id, pid); });
}

Status Lifecycle::output(const codec::CommandOutputInfo& v) {
  return append(schema::Payload::CommandOutput,
                [&](const auto& h) { return codec::build_command_output(h, v); });
}

Status Lifecycle::completed(const codec::CommandCompletedInfo& v) {
  return append(schema::Payload::CommandCompleted,
                [&](const auto& h) { return codec::build_command_completed(h, v); });
}

Status Lifecycle::failed(const CommandId& id, std::string_view reason) {
  return append(schema::Payload::CommandFailed,
                [&](const auto& h) { return codec::build_command_failed(h, id, reason); });
}

Status Lifecycle::timed_out(const codec::CommandTimedOutInfo& v) {
  return append(schema::Payload::CommandTimedOut,
                [&](const auto& h) { return codec::build_command_timed_out(h, v); });
}

Status Lifecycle::cancelled(const codec::CommandCancelledInfo& v) {
  return append(schema::Payload::CommandCancelled,
                [&](const auto& h) { return codec::build_command_cancelled(h, v); });
}

Status Lifecycle::expired(const CommandId& id, UnixNanos expires_at) {
  return append(schema::Payload::CommandExpired,
                [&](const auto& h) { return codec::build_command_expired(h, id, expires_at); });
}

Status Lifecycle::rejected(const CommandId& id, std::string_view reason) {
  return append(schema::Payload::CommandRejected,
                [&](const auto& h) { return codec::build_command_rejected(h, id, reason); });
}

Status Lifecycle::interrupted(const CommandId& id, std::string_view reason) {
  return append(schema::Payload::CommandInterrupted,
                [&](const auto& h) { return codec::build_command_interrupted(h, id, reason); });
}

}  // namespace rmm::agent
