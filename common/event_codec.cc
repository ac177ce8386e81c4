#include "common/event_codec.h"

#include <array>

#include <fmt/format.h>

namespace rmm::codec {
namespace {

// Deep enough for every schema we ship; bounds the verifier's work on hostile input.
constexpr flatbuffers::Verifier::Options kVerifierOptions{
    /*max_depth=*/32, /*max_tables=*/100'000, /*check_alignment=*/true,
    /*check_nested_flatbuffers=*/true};
// Larger than any event or command we produce; larger input is refused before verification.
constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;

struct TokenEntry {
  schema::Payload type;
  std::string_view token;
};

// Subject tokens are part of the wire contract: append only, never rename.
constexpr std::array<TokenEntry, 13> kTokens = {{
    {schema::Payload::AgentStarted, "started"},
    {schema::Payload::Heartbeat, "heartbeat"},
    {schema::Payload::MetricsSample, "metrics"},
    {schema::Payload::CommandReceived, "cmd_received"},
    {schema::Payload::CommandStarted, "cmd_started"},
    {schema::Payload::CommandOutput, "cmd_output"},
    {schema::Payload::CommandCompleted, "cmd_completed"},
    {schema::Payload::CommandFailed, "cmd_failed"},
    {schema::Payload::CommandTimedOut, "cmd_timeout"},
    {schema::Payload::CommandCancelled, "cmd_cancelled"},
    {schema::Payload::CommandExpired, "cmd_expired"},
    {schema::Payload::CommandRejected, "cmd_rejected"},
    {schema::Payload::CommandInterrupted, "cmd_interrupted"},
}};

}  // namespace

schema::Uuid to_wire(const UuidBytes& bytes) {
  return schema::Uuid(flatbuffers::span<const std::uint8_t, 16>(bytes.data(), 16));
}

UuidBytes from_wire(const schema::Uuid* uuid) {
  UuidBytes out{};
  if (uuid == nullptr) return out;
  const auto* arr = uuid->bytes();
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = arr->Get(static_cast<flatbuffers::uoffset_t>(i));
  return out;
}

Result<const schema::Envelope*> verify_event(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8) return fail(Error::Code::kInvalidInput, "event too short");
  if (bytes.size() > kMaxMessageBytes) return fail(Error::Code::kInvalidInput, "event too large");
  if (!schema::EnvelopeBufferHasIdentifier(bytes.data())) {
    return fail(Error::Code::kInvalidInput, "not an event (file identifier is not RMEV)");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), kVerifierOptions);
  if (!schema::VerifyEnvelopeBuffer(verifier)) {
    return fail(Error::Code::kInvalidInput, "event failed FlatBuffers verification");
  }
  const auto* env = schema::GetEnvelope(bytes.data());
  if (env->payload_type() == schema::Payload::NONE || env->payload() == nullptr) {
    return fail(Error::Code::kInvalidInput, "event has no payload");
  }
  if (env->source_id() == nullptr || from_wire(env->source_id()) == UuidBytes{}) {
    return fail(Error::Code::kInvalidInput, "event has no source id");
  }
  if (env->seq() == 0) return fail(Error::Code::kInvalidInput, "event sequence must start at 1");
  return env;
}

Result<const schema::CommandEnvelope*> verify_command(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < 8) return fail(Error::Code::kInvalidInput, "command too short");
  if (bytes.size() > kMaxMessageBytes) return fail(Error::Code::kInvalidInput, "command too large");
  if (!schema::CommandEnvelopeBufferHasIdentifier(bytes.data())) {
    return fail(Error::Code::kInvalidInput, "not a command (file identifier is not RMCM)");
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), kVerifierOptions);
  if (!schema::VerifyCommandEnvelopeBuffer(verifier)) {
    return fail(Error::Code::kInvalidInput, "command failed FlatBuffers verification");
  }
  const auto* cmd = schema::GetCommandEnvelope(bytes.data());
  if (cmd->command_id() == nullptr) return fail(Error::Code::kInvalidInput, "command has no id");
  return cmd;
}

std::string_view event_type_token(schema::Payload type) {
  for (const auto& e : kTokens) {
    if (e.type == type) return e.token;
  }
  return {};
}

std::optional<schema::Payload> payload_for_token(std::string_view token) {
  for (const auto& e : kTokens) {
    if (e.token == token) return e.type;
  }
  return std::nullopt;
}

std::string agent_event_subject(const AgentId& agent, schema::Payload type) {
  return fmt::format("rmm.evt.{}.{}", agent.str(), event_type_token(type));
}

std::string agent_command_subject(const AgentId& agent) {
  return fmt::format("rmm.cmd.{}", agent.str());
}

std::string agent_msg_id(const AgentId& agent, AgentSeq seq) {
  return fmt::format("{}:{}", agent.str(), seq.value);
}

std::vector<std::uint8_t> finish_agent_event(flatbuffers::FlatBufferBuilder& fbb,
                                             const AgentEventHeader& h, schema::Payload type,
                                             flatbuffers::Offset<void> payload) {
  auto event_id = to_wire(h.event_id.bytes());
  auto source_id = to_wire(h.agent.bytes());
  auto env = schema::CreateEnvelope(fbb, &event_id, schema::SourceKind::Agent, &source_id,
                                    /*source_name=*/0, h.seq.value, h.occurred_at,
                                    kEventSchemaVersion, type, payload);
  schema::FinishEnvelopeBuffer(fbb, env);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::vector<std::uint8_t> build_agent_started(const AgentEventHeader& h,
                                              const AgentStartedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(512);
  auto payload = schema::CreateAgentStartedDirect(
      fbb, v.hostname.c_str(), v.os_name.c_str(), v.os_version.c_str(), v.kernel.c_str(),
      v.arch.c_str(), v.agent_version.c_str(), v.cpu_model.c_str(), v.cpu_count,
      v.memory_total_bytes);
  return finish_agent_event(fbb, h, schema::Payload::AgentStarted, payload.Union());
}

std::vector<std::uint8_t> build_heartbeat(const AgentEventHeader& h, const HeartbeatInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto payload = schema::CreateHeartbeatDirect(fbb, v.agent_version.c_str(), v.uptime_s,
                                               v.outbox_depth, v.oldest_unsent_age_s);
  return finish_agent_event(fbb, h, schema::Payload::Heartbeat, payload.Union());
}

std::vector<std::uint8_t> build_metrics(const AgentEventHeader& h, const MetricsInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto payload = schema::CreateMetricsSample(fbb, v.cpu_percent, v.memory_total_bytes,
                                             v.memory_used_bytes, v.memory_available_bytes,
                                             v.load1, v.load5, v.load15);
  return finish_agent_event(fbb, h, schema::Payload::MetricsSample, payload.Union());
}

}  // namespace rmm::codec
