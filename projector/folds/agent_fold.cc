#include "projector/folds/agent_fold.h"

#include <fmt/format.h>

#include <limits>

#include "common/event_codec.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

std::string_view view(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : std::string_view(s->c_str(), s->size());
}

Error invalid(std::string message) {
  return Error{Error::Code::kInvalidInput, std::move(message)};
}

}  // namespace

Result<AgentEvent> to_agent_event(const schema::Envelope& env, const EventSubject& subject) {
  if (subject.kind != SubjectKind::kAgentEvent) {
    return std::unexpected(invalid("not an agent event subject"));
  }
  if (env.source_kind() != schema::SourceKind::Agent) {
    return std::unexpected(invalid("envelope source kind is not Agent on an agent subject"));
  }
  AgentId source(codec::from_wire(env.source_id()));
  if (source != subject.agent) {
    return std::unexpected(
        invalid(fmt::format("envelope source id {} does not match subject agent {}", source.str(),
                            subject.agent.str())));
  }
  auto expected = codec::payload_for_token(subject.type_token);
  if (!expected) {
    return std::unexpected(
        invalid(fmt::format("unknown event type token '{}'", subject.type_token)));
  }
  if (*expected != env.payload_type()) {
    auto actual = codec::event_type_token(env.payload_type());
    return std::unexpected(
        invalid(fmt::format("payload type '{}' does not match subject token '{}'",
                            actual.empty() ? "unknown" : actual, subject.type_token)));
  }
  if (env.seq() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::unexpected(invalid("sequence out of range"));
  }
  AgentEvent out{.agent = source,
                 .seq = AgentSeq{env.seq()},
                 .occurred_at = env.occurred_at_ns(),
                 .type = env.payload_type(),
                 .lane = env.lane()};
  if (out.lane != schema::Lane::Ordered && out.lane != schema::Lane::Presence) {
    return std::unexpected(invalid(fmt::format("unknown lane {}", static_cast<int>(out.lane))));
  }
  if (out.lane == schema::Lane::Presence && env.payload_type() != schema::Payload::Heartbeat) {
    // Only heartbeats may bypass the ordered sequence (and with it idempotence).
    return std::unexpected(invalid("only heartbeats travel in the presence lane"));
  }
  switch (env.payload_type()) {
    case schema::Payload::AgentStarted: {
      const auto* p = env.payload_as_AgentStarted();
      if (p == nullptr) return std::unexpected(invalid("AgentStarted payload missing"));
      out.hostname = storable_text(view(p->hostname()));
      std::string os(view(p->os_name()));
      if (!view(p->os_version()).empty()) {
        if (!os.empty()) os += ' ';
        os += view(p->os_version());
      }
      out.os = storable_text(os);
      out.version = storable_text(view(p->agent_version()));
      break;
    }
    case schema::Payload::Heartbeat: {
      const auto* p = env.payload_as_Heartbeat();
      if (p == nullptr) return std::unexpected(invalid("Heartbeat payload missing"));
      if (!view(p->agent_version()).empty()) out.version = storable_text(view(p->agent_version()));
      break;
    }
    case schema::Payload::MetricsSample: {
      const auto* p = env.payload_as_MetricsSample();
      if (p == nullptr) return std::unexpected(invalid("MetricsSample payload missing"));
      out.body = metrics_rows(*p);
      break;
    }
    case schema::Payload::Inventory: {
      const auto* p = env.payload_as_Inventory();
      if (p == nullptr) return std::unexpected(invalid("Inventory payload missing"));
      out.body = inventory_row(*p);
      break;
    }
    case schema::Payload::OutboxDropped: {
      const auto* p = env.payload_as_OutboxDropped();
      if (p == nullptr) return std::unexpected(invalid("OutboxDropped payload missing"));
      out.body = outbox_drop_row(*p);
      break;
    }
    case schema::Payload::WatchdogAlert: {
      const auto* p = env.payload_as_WatchdogAlert();
      if (p == nullptr) return std::unexpected(invalid("WatchdogAlert payload missing"));
      out.body = watchdog_row(*p);
      break;
    }
    case schema::Payload::UpdateProgress: {
      const auto* p = env.payload_as_UpdateProgress();
      if (p == nullptr) return std::unexpected(invalid("UpdateProgress payload missing"));
      auto row = update_progress_row(*p);
      if (!row) return std::unexpected(row.error());
      out.body = std::move(*row);
      break;
    }
    default: {
      if (!is_command_event(env.payload_type())) break;  // a type this build has no fold for
      auto change = command_change(env);
      if (!change) return std::unexpected(change.error());
      out.body = std::move(*change);
      break;
    }
  }
  return out;
}

FoldOutcome fold(AgentRow& row, const AgentEvent& event) {
  auto seq = static_cast<std::int64_t>(event.seq.value);
  const bool presence = event.lane == schema::Lane::Presence;
  std::int64_t& lane_seq = presence ? row.last_presence_seq : row.last_seq;
  if (row.exists && seq <= lane_seq) return FoldOutcome::kDuplicate;
  row.id = event.agent;
  row.exists = true;
  if (event.hostname) row.hostname = event.hostname;
  if (event.os) row.os = event.os;
  if (event.version) row.version = event.version;
  // The first event applied marks first_seen; a restart's AgentStarted does not move it.
  if (!row.first_seen) row.first_seen = event.occurred_at;
  if (!row.last_seen || event.occurred_at > *row.last_seen) row.last_seen = event.occurred_at;
  lane_seq = seq;
  ++row.events_applied;
  return FoldOutcome::kApplied;
}

std::optional<SequenceGap> detect_gap(const AgentRow& row, const AgentEvent& event) {
  if (event.lane != schema::Lane::Ordered) return std::nullopt;
  auto seq = static_cast<std::int64_t>(event.seq.value);
  const std::int64_t last = row.exists ? row.last_seq : 0;
  if (seq <= last + 1) return std::nullopt;
  return SequenceGap{.agent = event.agent,
                     .from_seq = last + 1,
                     .to_seq = seq - 1,
                     .detected_at = event.occurred_at};
}

}  // namespace rmm::projector
