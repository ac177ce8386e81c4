// Writes the applied MetricsSamples of a batch inside the batch transaction: one raw row per
// sample by COPY into the day-partitioned `metrics` table (its per-filesystem, disk, interface
// and sensor lists as json arrays of values, metrics_lists.h, so a live fold and a rebuild write
// the same bytes), the hourly rollups, and the latest state
// (agent_latest_metrics, agent_processes) by prepared unnest upserts, one statement each.
//
// The day partitions must exist (PartitionManager::ensure_days) before write_metrics runs.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <set>
#include <span>

#include "common/ids.h"
#include "projector/folds/telemetry.h"

namespace rmm::projector::db {

// One applied sample; `rows` points into the batch's items.
struct SampleRef {
  AgentId agent;
  std::int64_t seq = 0;
  std::int64_t stream_seq = 0;
  UnixNanos at = 0;                   // event time (clamped: folds/event_time.h)
  std::optional<UnixNanos> agent_at;  // the agent's own time, when `at` is not it
  const MetricsRows* rows = nullptr;
};

void prepare_metrics_statements(pqxx::connection& conn);

// `samples` in stream order (so per agent in sequence order). Raw rows are written only for
// samples at or after `raw_from` (earlier ones lie in days retention drops); every sample still
// counts in the rollups and the latest state.
void write_metrics(pqxx::work& tx, std::span<const SampleRef> samples,
                   UnixNanos raw_from = std::numeric_limits<UnixNanos>::min());

// Raw rows only (the COPY part of write_metrics), into `<prefix>metrics`: the benchmark measures
// the same COPY into a scratch table. Returns the rows written (one per sample).
std::int64_t copy_metric_rows(pqxx::work& tx, std::span<const SampleRef> samples,
                              const std::string& table_prefix = "");

}  // namespace rmm::projector::db
