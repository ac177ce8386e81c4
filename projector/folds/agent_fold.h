// The core projection's fold over agent events, as pure functions:
//   verified Envelope + parsed subject -> AgentEvent (what the event changes)
//   AgentRow + AgentEvent               -> AgentRow' (or "duplicate", leaving the row alone)
// The batch writer loads rows, folds a batch into them in memory and writes them back; the
// event's `body` (telemetry rows, a command change) is written only when the fold applied it.
//
// Two lanes per agent (Envelope.lane): the ordered lane's seq is the agent's event sequence
// (idempotence and gap detection: last_seq); the presence lane carries heartbeats numbered by
// their own counter (last_presence_seq), so neither lane makes the other's events duplicates.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "events_generated.h"
#include "projector/folds/command_fold.h"
#include "projector/folds/release_fold.h"
#include "projector/folds/subject.h"
#include "projector/folds/telemetry.h"

namespace rmm::projector {

// The row changes one agent event asks for. Strings are already storable (bounded, valid UTF-8).
struct AgentEvent {
  AgentId agent;
  AgentSeq seq;
  // The event time the read models use: the agent's clock, clamped to a window around stored_at
  // (folds/event_time.h). last_seen, partitions and alerts follow it; never the projector's clock.
  UnixNanos occurred_at = 0;
  UnixNanos agent_time = 0;  // the agent's clock as sent (Envelope.occurred_at_ns)
  UnixNanos stored_at = 0;   // when RMM_EVENTS stored the message (its JetStream timestamp)
  schema::Payload type = schema::Payload::NONE;
  std::optional<std::string> hostname;  // AgentStarted
  std::optional<std::string> os;        // AgentStarted: "<os name> <os version>"
  std::optional<std::string> version;   // AgentStarted, and Heartbeat when it carries one
  schema::Lane lane = schema::Lane::Ordered;
  // What the event adds to the telemetry and command read models.
  std::variant<std::monostate, MetricsRows, InventoryRow, OutboxDropRow, CommandChange, WatchdogRow,
               UpdateProgressRow>
      body;

  // Whether the agent's time was outside the window and occurred_at is not the agent's.
  bool clamped() const { return occurred_at != agent_time; }
};

// One row of `agents`, as the fold sees it.
struct AgentRow {
  AgentId id;
  std::optional<std::string> hostname, os, version;
  std::optional<UnixNanos> first_seen, last_seen;
  std::int64_t last_seq = 0;
  std::int64_t events_applied = 0;
  std::int64_t last_presence_seq = 0;
  // The agent's clock minus the stream's at its newest applied heartbeat, in ms: how far its
  // clock is ahead (negative: behind, or a heartbeat that waited in the outbox).
  std::optional<std::int64_t> clock_offset_ms;
  bool exists = false;  // false: not yet in the table

  bool operator==(const AgentRow&) const = default;
};

// Checks an already verified agent envelope against its subject (source kind, agent id, payload
// type vs type token, sequence range) and extracts its row changes, dated by clamping the
// agent's time around `stored_at` (the message's stream timestamp). An error is a dead letter
// reason.
Result<AgentEvent> to_agent_event(const schema::Envelope& env, const EventSubject& subject,
                                  UnixNanos stored_at);

// Ordered-lane events from_seq..to_seq that were skipped, detected at an event's arrival.
struct SequenceGap {
  AgentId agent;
  std::int64_t from_seq = 0, to_seq = 0;
  UnixNanos detected_at = 0;  // the event time of the event after the gap
  bool operator==(const SequenceGap&) const = default;
};

// An agent's ordered-lane ranges still missing (agent_sequence_gaps), by from_seq: the stored
// ones a batch's late events fall in, and the ones the batch recorded.
using OpenGaps = std::map<std::int64_t, SequenceGap>;

// The highest sequence (either lane) an agent may have used when the stream stored its event:
// kSeqSlack + kSeqPerSecond per second since kSeqEpoch. No agent sends 1,000 events a second on
// average since 2020; to_agent_event dead-letters a sequence above the bound, so one event cannot
// move an agent's last_seq where its real events never reach (2^63 - 1 froze an agent for good).
inline constexpr std::int64_t kSeqSlack = std::int64_t{1} << 24;
inline constexpr std::int64_t kSeqPerSecond = 1000;
inline constexpr UnixNanos kSeqEpoch = 1'577'836'800'000'000'000;  // 2020-01-01 UTC
std::int64_t max_plausible_seq(UnixNanos stored_at);

enum class FoldOutcome {
  kApplied,    // the next event of its lane (a gap before it is added to the open gaps)
  kFilled,     // an ordered event inside an open gap: applied late, and the gap shrinks
  kSeen,       // a heartbeat at or below the presence counter that moved last_seen forward
  kDuplicate,  // already applied: the row is untouched
};

// Applies `event` to `row`:
// - an event past its lane's last seq is applied; an ordered one past last_seq + 1 opens the gap
//   in between (added to `gaps`). The fold never waits for a missing event.
// - an ordered event at or below last_seq is applied when it lies in one of `gaps` (it was never
//   applied: a re-send that arrived after later events, or events after an agent's jump); the
//   gap shrinks by it. The row's hostname, os and version, which a newer event set, stay.
//   Otherwise it is a duplicate.
// - a heartbeat at or below the presence counter still shows the agent alive: it moves last_seen
//   forward (kSeen) and nothing else, so a jump of the counter cannot hide an agent's heartbeats.
// last_seen only moves forward (a presence heartbeat overtakes a backlog).
FoldOutcome fold(AgentRow& row, const AgentEvent& event, OpenGaps& gaps);
// The same with no gaps known (tests of the row rules).
FoldOutcome fold(AgentRow& row, const AgentEvent& event);

// The gap `event` reveals in `row` (before folding it): an ordered-lane event whose seq is past
// last_seq + 1. nullopt for presence events, duplicates and the next expected event.
std::optional<SequenceGap> detect_gap(const AgentRow& row, const AgentEvent& event);

}  // namespace rmm::projector
