// Day partitions of the raw metrics table and month partitions of metrics_hourly: created on
// demand before a batch's COPY (remembered, so a known day costs nothing), ahead of time around
// today, and dropped whole by retention (never a bulk DELETE). The SQL side is in
// migrations/0003_telemetry.sql (rmm_ensure_rollup_month) and 0006_metrics_one_row.sql
// (rmm_ensure_metrics_day, rmm_drop_partitions_before).
//
// Concurrency: one per connection; the SQL functions take a transaction advisory lock, so
// several processes may create the same partition at once.
// Limitations: event time is the agent's clock: an agent whose clock is far off creates (and
// retention later drops) partitions on the days it claims.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <pqxx/connection>
#include <set>

#include "common/clock.h"
#include "common/result.h"

namespace rmm::projector::db {

struct RetentionReport {
  int raw_dropped = 0;     // day partitions of `metrics`
  int rollup_dropped = 0;  // month partitions of metrics_hourly
};

class PartitionManager {
 public:
  explicit PartitionManager(pqxx::connection& conn) : conn_(conn) {}

  // Creates, each in its own short transaction, the partitions of every day in `days` (days since
  // 1970-01-01, UTC) and of their months that this manager has not seen yet. Days before
  // `first_raw_day` get their rollup month only (their raw rows are not written).
  Status ensure_days(const std::set<std::int64_t>& days,
                     std::int64_t first_raw_day = std::numeric_limits<std::int64_t>::min());
  // today - back .. today + ahead, by `now` (wall clock: this is upkeep, not a fold).
  Status ensure_around(UnixNanos now, int back = 2, int ahead = 2);
  // Drops raw partitions that end at or before now - raw_keep and rollup partitions that end at
  // or before now - rollup_keep; forgets what it dropped.
  Result<RetentionReport> apply_retention(UnixNanos now, std::chrono::milliseconds raw_keep,
                                          std::chrono::milliseconds rollup_keep);
  // The start of the first raw day apply_retention(now, raw_keep, ...) keeps: every sample
  // before it lies in a day that retention drops.
  static UnixNanos first_kept_raw_day(UnixNanos now, std::chrono::milliseconds raw_keep);
  // After a failed batch: a partition may have been dropped behind our back.
  void forget() {
    known_days_.clear();
    known_months_.clear();
  }

 private:
  pqxx::connection& conn_;
  std::set<std::int64_t> known_days_;
  std::set<std::int64_t> known_months_;  // year * 12 + month - 1
};

}  // namespace rmm::projector::db
