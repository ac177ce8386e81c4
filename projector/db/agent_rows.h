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

// Records `gaps` (a gap already recorded, as on a replay, is kept as it was).
void store_sequence_gaps(pqxx::work& tx, const std::vector<SequenceGap>& gaps);

}  // namespace rmm::projector::db
