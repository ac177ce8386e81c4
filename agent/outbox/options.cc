#include "agent/outbox/options.h"

#include <rocksdb/cache.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/table_properties_collectors.h>

namespace rmm::agent::outbox {
namespace {

constexpr std::size_t kMiB = 1024 * 1024;

rocksdb::ColumnFamilyOptions family_options(const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  // 64 MiB by default: a reopen replays the WAL into it, so RSS after a crash would be that much.
  cf.write_buffer_size = 1 * kMiB;
  cf.max_write_buffer_number = 3;
  // Small files and a small level base keep compactions short on a 1-job budget.
  cf.target_file_size_base = 8 * kMiB;
  cf.max_bytes_for_level_base = 32 * kMiB;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks live in (and are bounded by) the block cache instead of the heap.
  table.cache_index_and_filter_blocks = true;
  table.cache_index_and_filter_blocks_with_high_priority = true;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // A queue deletes what it wrote: files dense in tombstones are compacted early, so a drain's
  // Seek does not wade through deleted keys.
  cf.table_properties_collector_factories.emplace_back(
      rocksdb::NewCompactOnDeletionCollectorFactory(/*sliding_window_size=*/128,
                                                    /*deletion_trigger=*/64));
  return cf;
}

}  // namespace

DbOptions small_footprint_options() {
  DbOptions o;
  o.db.create_if_missing = true;
  o.db.create_missing_column_families = true;
  o.db.max_open_files = 32;
  o.db.table_cache_numshardbits = 2;
  o.db.max_background_jobs = 1;
  // Both families share the WAL; cap it so a quiet family cannot pin old WAL files.
  o.db.max_total_wal_size = 8 * kMiB;
  o.db.wal_bytes_per_sync = 1 * kMiB;
  o.db.bytes_per_sync = 1 * kMiB;
  // The info LOG: small, rolled, few kept, and no periodic statistics dumps.
  o.db.keep_log_file_num = 2;
  o.db.max_log_file_size = 1 * kMiB;
  o.db.recycle_log_file_num = 0;
  o.db.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.db.stats_dump_period_sec = 0;
  o.db.stats_persist_period_sec = 0;
  o.db.max_manifest_file_size = 4 * kMiB;
  // After a crash, recover every complete WAL record and drop a torn tail (the default, stated).
  o.db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;

  auto cache = rocksdb::NewLRUCache(1 * kMiB);
  o.events = family_options(cache);
  o.meta = family_options(cache);
  // The meta family holds a handful of keys overwritten on every append.
  o.meta.table_properties_collector_factories.clear();
  return o;
}

rocksdb::WriteOptions append_write_options(bool sync) {
  rocksdb::WriteOptions w;
  w.disableWAL = false;
  w.sync = sync;
  return w;
}

}  // namespace rmm::agent::outbox
