// What the applied agent events of one batch add to the telemetry and command read models,
// collected during the fold loop and written after it, each family in as few statements as
// possible (COPY for raw metrics, one unnest upsert per latest-state table).
//
// Holds pointers into the batch's items: it must not outlive them.
#pragma once

#include <cstdint>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <set>
#include <span>
#include <vector>

#include "projector/db/command_writer.h"
#include "projector/db/metrics_writer.h"
#include "projector/db/release_rows.h"
#include "projector/db/state_writer.h"
#include "projector/folds/decode.h"

namespace rmm::projector::db {

class ReadModelBatch {
 public:
  // Registers every statement the writers use (idempotent per connection).
  static void prepare(pqxx::connection& conn);
  // The UTC days (since 1970-01-01) of the batch's metrics samples: their partitions must exist
  // before write().
  static std::set<std::int64_t> metric_days(std::span<const BatchItem> items);

  // Call only for events the agent fold applied (in order or late, filling a gap), in stream
  // order.
  void add(const AgentEvent& event, StreamSeq stream_seq);
  // After the agents rows are stored. Raw metric rows before `raw_from` are left out.
  void write(pqxx::work& tx, UnixNanos raw_from) const;

  std::size_t samples() const { return samples_.size(); }

 private:
  std::vector<SampleRef> samples_;
  std::vector<InventoryRef> inventories_;
  std::vector<OutboxDropRef> drops_;
  std::vector<CommandRef> commands_;
  std::vector<UpdateProgressRef> updates_;
};

}  // namespace rmm::projector::db
