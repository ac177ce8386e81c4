// A rebuild's parallel phase (docs/architecture.md, "Parallel rebuild"): the units of the
// partitioned projection (unit_runner.h) fold a range of RMM_EVENTS into the rebuild's scratch
// schema at once, one thread and one PostgreSQL connection each, meeting at the same watermark
// barrier as the live units, so the result is the serial fold of that range.
//
// The schema must already hold the serial fold up to `from` (its "core" checkpoint; the rebuild
// replays the archived control prefix serially first). Every unit starts there, folds its
// messages up to `until` and stops; the unit rows are then folded back into one "core"
// checkpoint at `until`, so the schema looks exactly like a serial replay's and the rebuild
// catches up and swaps as before.
//
// Durable consumers are named after the scratch schema (never the live projector's) and deleted
// at the end. The connections take no owner lock (the live units' are database-wide) and do not
// name themselves as projector processes (the live ones count those for their fair share).
//
// Concurrency: fold_in_parallel() blocks the caller; `stop` (a signal) ends every unit within one
// fetch-timeout.
// Limitations: the units cannot fill a range the stream deleted from the archive, as the serial
// replay does: the call fails when the stream's front passed `from` + 1 before the units read it,
// and the caller does not use it for a stream with interior holes.
#pragma once

#include <atomic>
#include <chrono>
#include <limits>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/result.h"

namespace rmm::projector::rebuild {

struct ParallelFoldOptions {
  std::string pg_url;
  std::string schema;   // the scratch schema, migrated
  std::string stream;   // RMM_EVENTS
  std::string durable;  // consumer name base: "<durable>-p3"
  int partitions = 16;
  int fetch_batch = 2048;  // messages per fetch and at most per transaction
  std::chrono::milliseconds fetch_timeout{5000};
  UnixNanos skip_raw_metrics_before = std::numeric_limits<UnixNanos>::min();
};

struct ParallelFoldStats {
  std::uint64_t messages = 0;  // committed by the units
  std::chrono::steady_clock::duration elapsed{};
};

// Folds (from, until] with the units in parallel; the schema's "core" checkpoint is `until`
// afterwards and it has no unit rows.
Result<ParallelFoldStats> fold_in_parallel(nats::Connection& nats, const ParallelFoldOptions& o,
                                           StreamSeq from, StreamSeq until,
                                           const std::atomic<bool>& stop);

}  // namespace rmm::projector::rebuild
