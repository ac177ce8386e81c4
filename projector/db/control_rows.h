// Writes the rows of a folded control event (projector/folds/control_fold.h) inside the batch
// writer's transaction: tenancy (clients, sites), enrollment_codes, and the identity columns of
// agents plus agent_keys and clone_suspicions. Every statement is an idempotent upsert, so a
// re-applied event changes nothing.
#pragma once

#include <optional>
#include <pqxx/transaction>
#include <string>

#include "common/ids.h"
#include "projector/folds/control_fold.h"

namespace rmm::projector::db {

// A control event that must not be applied (an agent enrolled into another client's site): it left
// no trace, and the batch writer dead-letters it.
struct RefusedEvent {
  std::string subject;
  std::string reason;
};

// Nothing when applied. Throws what libpqxx throws; the batch writer catches it at its edge.
std::optional<RefusedEvent> apply_control_event(pqxx::work& tx, const ControlEvent& event,
                                                StreamSeq stream_seq);

}  // namespace rmm::projector::db
