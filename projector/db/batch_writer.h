// Writes a batch of decoded messages to the read models in ONE transaction together with the
// projection's checkpoint, so a crash leaves either all of a batch or none of it.
//
// Inside the transaction the checkpoint row is locked first: items at or below it were applied by
// an earlier commit (a redelivery after a crash between commit and ack) and are skipped. Agent
// rows are then locked, folded in memory (per-agent, per-lane sequence check, gap detection) and
// written back in one statement; what the applied events add to the telemetry and command read
// models follows (db/read_model_batch.h: COPY for raw metrics, unnest upserts for the rest).
// Metrics day partitions are created before the transaction (db/partitions.h).
//
// The live projector also states what it believes (Continuity): the checkpoint it committed last,
// and a range of sequences it proved deleted from the stream. The transaction then refuses, with a
// kConflict error and nothing written, a checkpoint row behind that belief (the read models went
// back under it) and a batch that does not continue the checkpoint: its sequences must follow
// checkpoint + 1 without holes, except inside the proven range, where the batch may hold only the
// control events the control archive kept of it (each under its original sequence). The part of
// the proven range the batch moves the checkpoint over is recorded in ops.stream_losses in the
// same transaction, counting only what the batch did not fold there. A rebuild or verify replays
// whatever the stream holds and states nothing.
//
// Concurrency: one writer per connection; two writers on the same projection serialise on the
// checkpoint row lock and never apply an item twice (only one may own it: db/projection_lock.h).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <pqxx/connection>
#include <span>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/result.h"
#include "projector/db/partitions.h"
#include "projector/db/stream_losses.h"
#include "projector/folds/decode.h"

namespace rmm::projector::db {

inline constexpr std::string_view kCoreProjection = "core";

struct BatchStats {
  int applied = 0;               // agent events folded into rows
  int duplicates = 0;            // agent events at or below the agent's last_seq
  int filled = 0;                // of `applied`: ordered events that filled an open gap
  int dead_letters = 0;          // rows written to dead_letters
  int dead_letters_dropped = 0;  // dead messages over the per-source cap: counted, not stored
  int ignored = 0;               // valid messages this projection has no fold for
  int already_checkpointed = 0;  // items at or below the checkpoint: a redelivery
  int metric_samples = 0;        // applied MetricsSamples (rows COPYed into `metrics`)
  StreamSeq checkpoint;          // the checkpoint after the commit
  std::uint64_t lost = 0;        // sequences of a proven-deleted range recorded as a stream loss
  std::uint64_t recovered = 0;   // control events folded inside a proven-deleted range
};

// What the live projector asserts about its next batch.
struct Continuity {
  StreamSeq checkpoint;  // the checkpoint the caller committed last (or read at start)
  // Sequences loss->from .. loss->to are gone from the stream (the caller proved it): the batch
  // may hold only control events among them (read from the archive), and the part of the range
  // it passes is recorded as a stream loss, less those.
  std::optional<StreamLoss> loss;
};

// What a unit of the partitioned projection asserts about its next batch (docs/architecture.md,
// "Partitioned projection"). Its messages have holes by design (the other units' messages), so
// the "checkpoint + 1" rule does not apply; instead every item must be at most one past the
// lowest watermark of `peers`, and the unit's own watermark is raised with the checkpoint.
struct UnitContinuity {
  StreamSeq checkpoint;            // the checkpoint the caller committed last (or read at start)
  std::vector<std::string> peers;  // the units this one must not pass (names without commas)
  StreamSeq watermark;             // this unit's watermark after the batch (raised to its items)
  // Sequences loss->from .. loss->to, past the unit's position, are gone from the stream (the
  // unit proved it): the batch may hold only control events among them (the control unit's, read
  // from the archive), moves the checkpoint and the watermark over the whole range, and records
  // it for the projection (record_unit_stream_loss), less those control events.
  std::optional<StreamLoss> loss;
};

class BatchWriter {
 public:
  explicit BatchWriter(pqxx::connection& conn,
                       std::string projection = std::string(kCoreProjection));

  // The projection's checkpoint (0 when it has none yet).
  Result<StreamSeq> read_checkpoint();

  // Applies `items` (any order; duplicates allowed) and moves the checkpoint to the highest
  // stream sequence among them. Catches libpqxx exceptions; on error nothing was committed unless
  // the commit itself was in doubt, which a retry detects through the checkpoint.
  Result<BatchStats> write(std::span<const BatchItem> items);
  // The same, checked against `continuity` (see the file comment); a refusal is a kConflict error.
  Result<BatchStats> write(std::span<const BatchItem> items, const Continuity& continuity);

  // The same for a unit of the partitioned projection; passing a peer's watermark is a kConflict
  // error with nothing written.
  Result<BatchStats> write(std::span<const BatchItem> items, const UnitContinuity& unit);

  // The lowest watermark among `peers` (0 while one has no row yet).
  Result<StreamSeq> peer_watermark(std::span<const std::string> peers);
  // Raises this projection's watermark to `watermark` (never lowers it): a unit that waits, or
  // has nothing to fold, still lets its peers go on.
  Status publish_watermark(StreamSeq watermark);
  // Raises the watermark this unit waits for from its peers to `wanted` (never lowers it).
  Status publish_wanted(StreamSeq wanted);
  // The highest watermark any of `peers` waits for (0: none waits).
  Result<StreamSeq> peer_wanted(std::span<const std::string> peers);

  // Partition upkeep (ahead-of-time creation, retention) on this writer's connection.
  PartitionManager& partitions() { return partitions_; }

  // A replay knows where retention will cut (PartitionManager::first_kept_raw_day): raw metric
  // rows before `from` would be written only to be dropped with their day, so they are not
  // written (nor their partitions created). Rollups, latest state and alerts still see them.
  void skip_raw_metrics_before(UnixNanos from);

 private:
  Result<BatchStats> write_checked(std::span<const BatchItem> items, const Continuity* continuity,
                                   const UnitContinuity* unit = nullptr);

  pqxx::connection& conn_;
  std::string projection_;
  // The projection dead letters are recorded under: a unit's ("core/p3") is its projection's
  // ("core"), so they read the same as a rebuild's.
  std::string recorded_as_;
  PartitionManager partitions_;
  UnixNanos raw_metrics_from_ = std::numeric_limits<UnixNanos>::min();
  std::int64_t first_raw_day_ = std::numeric_limits<std::int64_t>::min();  // of raw_metrics_from_
};

}  // namespace rmm::projector::db
