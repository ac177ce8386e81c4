// RocksDB options for the outbox: a small-footprint configuration (see README.md in this folder
// for each choice, what it costs and why).
#pragma once

#include <rocksdb/options.h>

namespace rmm::agent::outbox {

struct DbOptions {
  rocksdb::DBOptions db;
  rocksdb::ColumnFamilyOptions events;
  rocksdb::ColumnFamilyOptions meta;
};

DbOptions small_footprint_options();

// Appends of telemetry: WAL on, no fsync. Survives kill -9 of the agent (the WAL record is in the
// OS page cache when Write returns); a power loss or kernel crash can lose the appends of the
// last moments (whatever the kernel had not yet written back, typically up to ~30 s).
rocksdb::WriteOptions append_write_options(bool sync);

}  // namespace rmm::agent::outbox
