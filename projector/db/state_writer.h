// Latest-state rows of a batch other than metrics: agent_inventory (plus the inventory summary on
// agents) and agent_outbox_drops. One prepared unnest statement each, inside the batch
// transaction, after the agents rows are stored.
#pragma once

#include <cstdint>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <span>

#include "common/ids.h"
#include "projector/folds/telemetry.h"

namespace rmm::projector::db {

struct InventoryRef {
  AgentId agent;
  std::int64_t seq = 0;
  UnixNanos at = 0;
  const InventoryRow* row = nullptr;
};

struct OutboxDropRef {
  AgentId agent;
  std::int64_t seq = 0;
  UnixNanos at = 0;
  const OutboxDropRow* row = nullptr;
};

void prepare_state_statements(pqxx::connection& conn);

// `inventories` in stream order: the last one of each agent wins.
void write_inventories(pqxx::work& tx, std::span<const InventoryRef> inventories);
void write_outbox_drops(pqxx::work& tx, std::span<const OutboxDropRef> drops);

// The jsonb documents of agent_inventory (exposed for tests).
std::string interfaces_json(const InventoryRow& row);
std::string packages_json(const InventoryRow& row);
std::string services_json(const InventoryRow& row);

}  // namespace rmm::projector::db
