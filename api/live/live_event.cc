#include "api/live/live_event.h"

#include <boost/json.hpp>
#include <vector>

#include "api/intents/json_input.h"
#include "common/event_codec.h"

namespace rmm::api::live {
namespace {

using schema::Payload;

// "rmm.p.<k>.evt.<agent>.<type>" -> the agent id text; empty when the subject is not of that form.
std::string_view subject_agent(std::string_view subject) {
  constexpr std::string_view kPrefix = "rmm.p.";
  if (!subject.starts_with(kPrefix)) return {};
  subject.remove_prefix(kPrefix.size());
  auto dot = subject.find('.');
  if (dot == std::string_view::npos) return {};
  subject.remove_prefix(dot + 1);
  if (!subject.starts_with("evt.")) return {};
  subject.remove_prefix(4);
  return subject.substr(0, subject.find('.'));
}

std::string json_of(boost::json::object o) {
  return boost::json::serialize(o);
}

LiveEvent command_status(const AgentId& agent, std::int64_t at, const schema::Uuid* id,
                         std::string_view status) {
  return {LiveKind::kCommand, agent, at,
          json_of({{"id", uuid_to_string(codec::from_wire(id))},
                   {"agent_id", agent.str()},
                   {"status", status}})};
}

std::optional<LiveEvent> decode_agent_event(const AgentId& agent, const schema::Envelope& env) {
  const std::int64_t at = env.occurred_at_ns();
  switch (env.payload_type()) {
    case Payload::Heartbeat:
    case Payload::AgentStarted:
      return LiveEvent{LiveKind::kPresence, agent, at, {}};
    case Payload::MetricsSample: {
      const auto* m = env.payload_as_MetricsSample();
      double mem = m->memory_total_bytes() > 0
                       ? 100.0 * static_cast<double>(m->memory_used_bytes()) /
                             static_cast<double>(m->memory_total_bytes())
                       : 0.0;
      return LiveEvent{LiveKind::kMetrics, agent, at,
                       json_of({{"agent_id", agent.str()},
                                {"ts", intents::format_rfc3339(at)},
                                {"cpu_percent", static_cast<double>(m->cpu_percent())},
                                {"memory_percent", mem}})};
    }
    case Payload::CommandReceived:
      return command_status(agent, at, env.payload_as_CommandReceived()->command_id(), "received");
    case Payload::CommandStarted:
      return command_status(agent, at, env.payload_as_CommandStarted()->command_id(), "started");
    case Payload::CommandCompleted:
      return command_status(agent, at, env.payload_as_CommandCompleted()->command_id(),
                            "completed");
    case Payload::CommandFailed:
      return command_status(agent, at, env.payload_as_CommandFailed()->command_id(), "failed");
    case Payload::CommandTimedOut:
      return command_status(agent, at, env.payload_as_CommandTimedOut()->command_id(), "timed_out");
    case Payload::CommandCancelled:
      return command_status(agent, at, env.payload_as_CommandCancelled()->command_id(),
                            "cancelled");
    case Payload::CommandExpired:
      return command_status(agent, at, env.payload_as_CommandExpired()->command_id(), "expired");
    case Payload::CommandRejected:
      return command_status(agent, at, env.payload_as_CommandRejected()->command_id(), "rejected");
    case Payload::CommandInterrupted:
      return command_status(agent, at, env.payload_as_CommandInterrupted()->command_id(),
                            "interrupted");
    case Payload::CommandOutput: {
      const auto* o = env.payload_as_CommandOutput();
      std::span<const std::uint8_t> data;
      if (o->data() != nullptr) data = {o->data()->data(), o->data()->size()};
      return LiveEvent{
          LiveKind::kCommandOutput, agent, at,
          json_of({{"id", uuid_to_string(codec::from_wire(o->command_id()))},
                   {"agent_id", agent.str()},
                   {"stream", o->stream() == schema::OutputStream::Stderr ? "stderr" : "stdout"},
                   {"offset", o->offset()},
                   {"data", sanitize_utf8(data)}})};
    }
    default:
      return std::nullopt;
  }
}

std::optional<LiveEvent> decode_control_event(const schema::Envelope& env) {
  const std::int64_t at = env.occurred_at_ns();
  switch (env.payload_type()) {
    case Payload::CommandIssued: {
      const auto* c = env.payload_as_CommandIssued();
      return command_status(AgentId(codec::from_wire(c->agent_id())), at, c->command_id(),
                            "queued");
    }
    case Payload::AgentRevoked: {
      AgentId agent(codec::from_wire(env.payload_as_AgentRevoked()->agent_id()));
      return LiveEvent{
          LiveKind::kAgentRevoked, agent, at,
          json_of({{"id", agent.str()}, {"status", "revoked"}, {"last_seen", nullptr}})};
    }
    case Payload::AgentEnrolled:
      return LiveEvent{LiveKind::kPresence,
                       AgentId(codec::from_wire(env.payload_as_AgentEnrolled()->agent_id())),
                       at,
                       {}};
    default:
      return std::nullopt;
  }
}

}  // namespace

std::optional<LiveEvent> decode_live_event(std::string_view subject,
                                           std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> storage;
  auto env = codec::verify_event(codec::aligned_for_read(bytes, storage));
  if (!env) return std::nullopt;
  const schema::Envelope& e = **env;
  if (subject.starts_with("rmm.ctl.")) {
    if (e.source_kind() != schema::SourceKind::ControlPlane) return std::nullopt;
    return decode_control_event(e);
  }
  auto agent = AgentId::parse(subject_agent(subject));
  if (!agent) return std::nullopt;
  if (e.source_kind() != schema::SourceKind::Agent ||
      codec::from_wire(e.source_id()) != agent->bytes()) {
    return std::nullopt;
  }
  return decode_agent_event(*agent, e);
}

std::string sanitize_utf8(std::span<const std::uint8_t> b) {
  std::string out;
  out.reserve(b.size());
  std::size_t i = 0;
  while (i < b.size()) {
    std::uint8_t c = b[i];
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xE  ? 3
                      : (c >> 3) == 0x1E ? 4
                                         : 0;
    bool ok = len > 0 && i + len <= b.size();
    for (std::size_t k = 1; ok && k < len; ++k) ok = (b[i + k] & 0xC0) == 0x80;
    if (ok && len > 1) {
      // Refuse overlong forms, surrogates and code points past U+10FFFF.
      std::uint32_t cp = len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
      for (std::size_t k = 1; k < len; ++k) cp = (cp << 6) | (b[i + k] & 0x3F);
      ok = (len == 2 && cp >= 0x80) || (len == 3 && cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) ||
           (len == 4 && cp >= 0x10000 && cp <= 0x10FFFF);
    }
    if (ok) {
      out.append(reinterpret_cast<const char*>(b.data() + i), len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string sse_frame(std::string_view event, std::string_view data) {
  std::string out;
  out.reserve(event.size() + data.size() + 16);
  out.append("event: ").append(event).append("\ndata: ").append(data).append("\n\n");
  return out;
}

}  // namespace rmm::api::live
