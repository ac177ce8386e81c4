// The `agents` rows and sequence gaps of a batch: loaded (locked) in one query, written back in
// one unnest upsert each. Runs inside the batch writer's transaction.
#pragma once

#include <map>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <set>
#include <vector>

#include "projector/folds/agent_fold.h"

namespace rmm::projector::db {

// Registers the prepared statements on `conn` (idempotent per connection).
void prepare_agent_statements(pqxx::connection& conn);

// Loads and locks (FOR UPDATE, in id order: no deadlock between writers) the rows of `ids`.
void load_agent_rows(pqxx::work& tx, const std::set<AgentId>& ids,
                     std::map<AgentId, AgentRow>& rows);

// Upserts every row of `rows` whose id is in `changed`.
void store_agent_rows(pqxx::work& tx, const std::map<AgentId, AgentRow>& rows,
                      const std::set<AgentId>& changed);

// An ordered event at or below its agent's stored last_seq: it may fill an open gap.
struct LateEvent {
  AgentId agent;
  std::int64_t seq = 0;
};

// The stored open gaps that hold any of `late`, per agent.
std::map<AgentId, OpenGaps> load_open_gaps(pqxx::work& tx, const std::vector<LateEvent>& late);

// Writes what a batch changed in its agents' open gaps: `before` as loaded, `after` as folded
// (gaps filled entirely are deleted, shrunk or split ones replaced, new ones inserted).
void store_gap_changes(pqxx::work& tx, const std::map<AgentId, OpenGaps>& before,
                       const std::map<AgentId, OpenGaps>& after);

}  // namespace rmm::projector::db
