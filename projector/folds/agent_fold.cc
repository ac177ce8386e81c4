#include "projector/folds/agent_fold.h"

#include <fmt/format.h>

#include <limits>

#include "common/event_codec.h"
#include "projector/folds/event_time.h"
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

Result<AgentEvent> to_agent_event(const schema::Envelope& env, const EventSubject& subject,
                                  UnixNanos stored_at) {
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
  if (env.seq() > static_cast<std::uint64_t>(max_plausible_seq(stored_at))) {
    // Also keeps every sequence within bigint.
    return std::unexpected(invalid(
        fmt::format("sequence {} is past {}, the most an agent can have used by the stream time "
                    "of its event",
                    env.seq(), max_plausible_seq(stored_at))));
  }
  AgentEvent out{.agent = source,
                 .seq = AgentSeq{env.seq()},
                 .occurred_at = clamp_event_time(env.occurred_at_ns(), stored_at),
                 .agent_time = env.occurred_at_ns(),
                 .stored_at = stored_at,
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
      auto change = command_change(env, out.occurred_at);
      if (!change) return std::unexpected(change.error());
      out.body = std::move(*change);
      break;
    }
  }
  return out;
}

std::int64_t max_plausible_seq(UnixNanos stored_at) {
  // Whole seconds: stored_at - kSeqEpoch cannot overflow for any stored_at >= kSeqEpoch, and the
  // product stays below 2^63 for every int64 time (9.3e9 s * 1000).
  const std::int64_t seconds = stored_at > kSeqEpoch ? (stored_at - kSeqEpoch) / 1'000'000'000 : 0;
  return kSeqSlack + kSeqPerSecond * seconds;
}

namespace {

// The row changes every applied event makes.
void touch(AgentRow& row, const AgentEvent& event) {
  row.id = event.agent;
  row.exists = true;
  // The first event applied marks first_seen; a restart's AgentStarted does not move it.
  if (!row.first_seen) row.first_seen = event.occurred_at;
  if (!row.last_seen || event.occurred_at > *row.last_seen) row.last_seen = event.occurred_at;
  ++row.events_applied;
}

// Removes `seq` from the open gap holding it; false when none does.
bool fill(OpenGaps& gaps, std::int64_t seq) {
  auto it = gaps.upper_bound(seq);
  if (it == gaps.begin()) return false;
  --it;
  const SequenceGap gap = it->second;
  if (seq > gap.to_seq) return false;
  gaps.erase(it);
  if (gap.from_seq < seq) {
    auto before = gap;
    before.to_seq = seq - 1;
    gaps.emplace(before.from_seq, before);
  }
  if (seq < gap.to_seq) {
    auto after = gap;
    after.from_seq = seq + 1;
    gaps.emplace(after.from_seq, after);
  }
  return true;
}

}  // namespace

FoldOutcome fold(AgentRow& row, const AgentEvent& event, OpenGaps& gaps) {
  auto seq = static_cast<std::int64_t>(event.seq.value);
  const bool presence = event.lane == schema::Lane::Presence;
  std::int64_t& lane_seq = presence ? row.last_presence_seq : row.last_seq;
  if (row.exists && seq <= lane_seq) {
    if (presence) {
      if (row.last_seen && event.occurred_at <= *row.last_seen) return FoldOutcome::kDuplicate;
      row.last_seen = event.occurred_at;
      return FoldOutcome::kSeen;
    }
    if (!fill(gaps, seq)) return FoldOutcome::kDuplicate;
    touch(row, event);
    return FoldOutcome::kFilled;
  }
  if (auto gap = detect_gap(row, event)) gaps.emplace(gap->from_seq, *gap);
  touch(row, event);
  if (event.hostname) row.hostname = event.hostname;
  if (event.os) row.os = event.os;
  if (event.version) row.version = event.version;
  if (event.type == schema::Payload::Heartbeat) {
    // Each in ms first: the agent's time may be anything an int64 holds.
    row.clock_offset_ms = event.agent_time / 1'000'000 - event.stored_at / 1'000'000;
  }
  lane_seq = seq;
  return FoldOutcome::kApplied;
}

FoldOutcome fold(AgentRow& row, const AgentEvent& event) {
  OpenGaps none;
  return fold(row, event, none);
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
