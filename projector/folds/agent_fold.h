// The core projection's fold over agent events, as pure functions:
//   verified Envelope + parsed subject -> AgentEvent (what the event changes)
//   AgentRow + AgentEvent               -> AgentRow' (or "duplicate", leaving the row alone)
// The batch writer loads rows, folds a batch into them in memory and writes them back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "events_generated.h"
#include "projector/folds/subject.h"

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
};

// One row of `agents`, as the fold sees it.
struct AgentRow {
  AgentId id;
  std::optional<std::string> hostname, os, version;
  std::optional<UnixNanos> first_seen, last_seen;
  std::int64_t last_seq = 0;
  std::int64_t events_applied = 0;
  bool exists = false;  // false: not yet in the table

  bool operator==(const AgentRow&) const = default;
};

// Checks an already verified agent envelope against its subject (source kind, agent id, payload
// type vs type token, sequence range) and extracts its row changes. An error is a dead letter
// reason.
Result<AgentEvent> to_agent_event(const schema::Envelope& env, const EventSubject& subject);

enum class FoldOutcome { kApplied, kDuplicate };

// Applies `event` to `row` unless event.seq <= row.last_seq (a re-send: kDuplicate, row
// untouched). Gaps in the sequence are fine: the fold never waits for a missing event.
FoldOutcome fold(AgentRow& row, const AgentEvent& event);

}  // namespace rmm::projector
