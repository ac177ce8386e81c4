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
  UnixNanos occurred_at = 0;  // the source's clock: last_seen is event time, never ours
  schema::Payload type = schema::Payload::NONE;
  std::optional<std::string> hostname;  // AgentStarted
  std::optional<std::string> os;        // AgentStarted: "<os name> <os version>"
  std::optional<std::string> version;   // AgentStarted, and Heartbeat when it carries one
  schema::Lane lane = schema::Lane::Ordered;
  // What the event adds to the telemetry and command read models.
  std::variant<std::monostate, MetricsRows, InventoryRow, OutboxDropRow, CommandChange, WatchdogRow,
               UpdateProgressRow>
      body;
};

// One row of `agents`, as the fold sees it.
struct AgentRow {
  AgentId id;
  std::optional<std::string> hostname, os, version;
  std::optional<UnixNanos> first_seen, last_seen;
  std::int64_t last_seq = 0;
  std::int64_t events_applied = 0;
  std::int64_t last_presence_seq = 0;
  bool exists = false;  // false: not yet in the table

  bool operator==(const AgentRow&) const = default;
};

// Checks an already verified agent envelope against its subject (source kind, agent id, payload
// type vs type token, sequence range) and extracts its row changes. An error is a dead letter
// reason.
Result<AgentEvent> to_agent_event(const schema::Envelope& env, const EventSubject& subject);

enum class FoldOutcome { kApplied, kDuplicate };

// Applies `event` to `row` unless its seq is at or below the row's last seq of the event's lane
// (a re-send: kDuplicate, row untouched). Gaps in the sequence are fine: the fold never waits for
// a missing event. last_seen only moves forward (a presence heartbeat overtakes a backlog).
FoldOutcome fold(AgentRow& row, const AgentEvent& event);

// Ordered-lane events from_seq..to_seq that were skipped, detected at an event's arrival.
struct SequenceGap {
  AgentId agent;
  std::int64_t from_seq = 0, to_seq = 0;
  UnixNanos detected_at = 0;  // the event time of the event after the gap
  bool operator==(const SequenceGap&) const = default;
};

// The gap `event` reveals in `row` (before folding it): an ordered-lane event whose seq is past
// last_seq + 1. nullopt for presence events, duplicates and the next expected event.
std::optional<SequenceGap> detect_gap(const AgentRow& row, const AgentEvent& event);

}  // namespace rmm::projector
