#include "projector/upkeep.h"

#include "common/clock.h"
#include "common/log.h"
#include "projector/db/dead_letters.h"

namespace rmm::projector {

void read_model_upkeep(db::BatchWriter& writer, pqxx::connection& conn,
                       const ProjectorOptions& options) {
  auto& partitions = writer.partitions();
  const UnixNanos now = real_clock().now();
  if (auto st = partitions.ensure_around(now); !st) {
    log::warn("partitions.create_failed", {{"error", st.error().message}});
  }
  if (auto expired = db::expire_dead_letters(conn, now, options.dead_letter_retention); !expired) {
    log::warn("dead_letters.retention_failed", {{"error", expired.error().message}});
  } else if (*expired > 0) {
    log::info("dead_letters.expired", {{"rows", *expired}});
  }
  auto dropped =
      partitions.apply_retention(now, options.metrics_retention, options.rollup_retention);
  if (!dropped) {
    log::warn("partitions.retention_failed", {{"error", dropped.error().message}});
  } else if (dropped->raw_dropped > 0 || dropped->rollup_dropped > 0) {
    log::info("partitions.dropped",
              {{"raw", dropped->raw_dropped}, {"rollup", dropped->rollup_dropped}});
  }
}

}  // namespace rmm::projector
