// The alerts and alert_conditions tables as the alert engine's state: loaded for the agents (and
// alerts) a batch touches, written back once per batch (one unnest statement per kind of change).
// Runs inside the batch writer's transaction; throws what libpqxx throws.
#pragma once

#include <optional>
#include <pqxx/transaction>
#include <set>
#include <vector>

#include "projector/alerts/alert_rules.h"

namespace rmm::projector::db {

// Active alerts, conditions and suppressions of `agents`, and the keys of `alerts` (alerts named
// by control events; their agents' state is loaded too).
void load_alert_state(pqxx::work& tx, const std::set<AgentId>& agents,
                      const std::set<AlertId>& alerts, alerts::AlertEngine& engine);

// Agents not in `exclude` that a ClockTick at `tick` may find offline (silent for at least the
// smallest allowed offline.after_s) or that have an active offline alert to resolve; revoked
// agents are left out.
struct TickCandidate {
  AgentId agent;
  std::optional<UnixNanos> last_seen;
};
std::vector<TickCandidate> tick_candidates(pqxx::work& tx, UnixNanos tick,
                                           const std::set<AgentId>& exclude);

// Inserts the raised alerts, then applies updates in order, then stores condition changes.
void write_alert_changes(pqxx::work& tx, const alerts::AlertEngine& engine);

}  // namespace rmm::projector::db
