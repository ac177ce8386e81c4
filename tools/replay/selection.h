// What rmm-replay reads: a time range, agents, event types; and how that becomes one JetStream
// filter subject (nats-server 2.9 takes one per consumer) plus a check of each delivered subject.
//
// Subjects (docs/architecture.md): agent events `rmm.p.<k>.evt.<agent id>.<type>`, control events
// `rmm.ctl.<aggregate>.<type>`. Selecting agents (or a client or site, resolved to its agents)
// leaves control events out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::replay {

struct Selection {
  std::optional<UnixNanos> since;  // stream time, inclusive
  std::optional<UnixNanos> until;  // stream time, inclusive
  std::vector<AgentId> agents;     // empty: every source
  bool agents_selected = false;    // true even when a client/site resolved to no agent
  std::vector<std::string> types;  // subject type tokens ("metrics", "heartbeat"); empty: all
};

// The single filter subject that narrows the consumer most without losing a selected event;
// empty for the whole stream.
std::string filter_subject(const Selection& selection);

// Checks a delivered subject against the selection (agents and types). Precomputed sets.
class SubjectMatcher {
 public:
  explicit SubjectMatcher(const Selection& selection);
  bool matches(std::string_view subject) const;

 private:
  bool agents_selected_;
  std::unordered_set<std::string> agents_;
  std::unordered_set<std::string> types_;
};

// The agent id of an agent event subject ("" for a control event or another shape).
std::string_view subject_agent(std::string_view subject);
// The last token of a subject: the event type token.
std::string_view subject_type(std::string_view subject);

// Times on the command line: RFC 3339 ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00+02:00"),
// a date ("2026-11-01", midnight UTC), Unix nanoseconds ("1764547200000000000"), "now", or an
// age ("36h", "30d", "15m": that long before `now`).
Result<UnixNanos> parse_time(std::string_view text, UnixNanos now);

// Comma-separated list into its non-empty items.
std::vector<std::string> split_list(std::string_view text);

}  // namespace rmm::replay
