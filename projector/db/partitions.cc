#include "projector/db/partitions.h"

#include <fmt/format.h>

#include <pqxx/result>
#include <pqxx/transaction>

#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

std::int64_t month_key(std::int64_t day) {
  std::chrono::year_month_day ymd{std::chrono::sys_days(std::chrono::days(day))};
  return static_cast<int>(ymd.year()) * 12 + static_cast<unsigned>(ymd.month()) - 1;
}

}  // namespace

Status PartitionManager::ensure_days(const std::set<std::int64_t>& days,
                                     std::int64_t first_raw_day) {
  try {
    for (auto day : days) {
      const bool new_day = day >= first_raw_day && !known_days_.contains(day);
      const auto month = month_key(day);
      // A known day's month exists; a day without raw rows still needs its month for the rollups.
      const bool new_month = (new_day || day < first_raw_day) && !known_months_.contains(month);
      if (!new_day && !new_month) continue;
      pqxx::work tx(conn_);
      if (new_day) tx.exec_params("SELECT rmm_ensure_metrics_day($1::date)", day_text(day));
      if (new_month) tx.exec_params("SELECT rmm_ensure_rollup_month($1::date)", day_text(day));
      tx.commit();
      if (new_day) known_days_.insert(day);
      known_months_.insert(month);
    }
    return {};
  } catch (const std::exception& e) {
    return failf("creating metrics partitions: {}", e.what());
  }
}

Status PartitionManager::ensure_around(UnixNanos now, int back, int ahead) {
  const auto today = utc_day(ns_to_micros(now));
  std::set<std::int64_t> days;
  for (auto d = today - back; d <= today + ahead; ++d) days.insert(d);
  return ensure_days(days);
}

UnixNanos PartitionManager::first_kept_raw_day(UnixNanos now, std::chrono::milliseconds raw_keep) {
  const auto cutoff_us = ns_to_micros(now) - raw_keep.count() * 1000;
  // A day is dropped when its end is at or before the cutoff: the day holding the cutoff stays.
  return utc_day(cutoff_us) * kMicrosPerDay * 1000;
}

Result<RetentionReport> PartitionManager::apply_retention(UnixNanos now,
                                                          std::chrono::milliseconds raw_keep,
                                                          std::chrono::milliseconds rollup_keep) {
  const auto now_us = ns_to_micros(now);
  const auto raw_cutoff = now_us - raw_keep.count() * 1000;
  const auto rollup_cutoff = now_us - rollup_keep.count() * 1000;
  RetentionReport report;
  try {
    pqxx::work tx(conn_);
    constexpr std::string_view kDrop =
        "SELECT rmm_drop_partitions_before($1::text[], "
        "timestamptz 'epoch' + $2::bigint * interval '1 microsecond')";
    report.raw_dropped = tx.exec_params1(std::string(kDrop), "{metrics}", raw_cutoff)[0].as<int>();
    report.rollup_dropped =
        tx.exec_params1(std::string(kDrop), "{metrics_hourly}", rollup_cutoff)[0].as<int>();
    tx.commit();
  } catch (const std::exception& e) {
    return failf("dropping expired metrics partitions: {}", e.what());
  }
  // A dropped day is re-created on demand if a late event still falls in it.
  std::erase_if(known_days_, [&](std::int64_t d) { return (d + 1) * kMicrosPerDay <= raw_cutoff; });
  known_months_.clear();
  return report;
}

}  // namespace rmm::projector::db
