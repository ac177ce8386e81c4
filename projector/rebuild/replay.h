// Replays the event log into one read-model schema as fast as the database takes it: a reader
// thread takes messages from the log (rebuild/merged_log.h: RMM_EVENTS, with what it no longer
// holds filled from the control archive) and decodes them while the caller's thread writes the
// previous batch through the projector's own BatchWriter (the same folds and the same SQL as the
// live projector, so a replay and the live read models agree).
//
// Batches are cut at the target sequence, so a replay can stop exactly where the live read models
// are (verify compares at one checkpoint). A target inside a range the stream no longer holds is
// reached by moving the checkpoint over the rest of that range (nothing there can be applied).
//
// Concurrency: run_until() on one thread; the reader thread is owned and joined by the Replay.
// `stop` (a signal) is honoured between batches.
// Limitations: no retry: a database or NATS failure fails the replay (the caller drops the
// schema; a rebuild is started again from the beginning).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
#include <thread>
#include <vector>

#include "common/nats_connection.h"
#include "common/result.h"
#include "projector/db/batch_writer.h"
#include "projector/folds/decode.h"
#include "projector/rebuild/merged_log.h"

namespace rmm::projector::rebuild {

struct ReplayOptions {
  std::string stream = "RMM_EVENTS";
  // Where the control events that aged out of `stream` are kept (empty: none; a range the stream
  // no longer holds then fails the replay).
  std::string archive = std::string(kControlArchive);
  std::size_t batch_size = 8192;
  // Give up when no message arrives for this long while the target is not reached.
  std::chrono::milliseconds stall_timeout{15'000};
  // Raw metric rows before this time are not written: retention drops their days at the end of
  // the run (db::PartitionManager::first_kept_raw_day). The default writes every row.
  UnixNanos skip_raw_metrics_before = std::numeric_limits<UnixNanos>::min();
};

struct ReplayStats {
  std::uint64_t messages = 0, applied = 0, duplicates = 0, dead_letters = 0, batches = 0;
  std::uint64_t archived = 0;  // messages read from the control archive
  // The first sequence after the last range the stream no longer held (1: it held everything).
  StreamSeq complete_from{1};
  // Reader thread: waiting for and taking messages; decoding. Writer: BatchWriter::write.
  std::chrono::steady_clock::duration read{}, decode{}, write{}, write_wait{};
};

class Replay {
 public:
  // `db` must already point at the target schema (search_path) and be migrated.
  Replay(pqxx::connection& db, nats::Connection& nats, ReplayOptions options,
         const std::atomic<bool>& stop);
  ~Replay();
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  // Opens the log after the schema's checkpoint and starts the reader.
  Status start();
  // Applies every message with sequence <= target; returns when the checkpoint reached it.
  Status run_until(StreamSeq target);

  StreamSeq checkpoint() const { return checkpoint_; }
  const ReplayStats& stats() const { return stats_; }

 private:
  struct Batch {
    std::vector<BatchItem> items;
    StreamSeq through;  // MergedLog::through() after the items were taken
  };
  void read_loop();
  // Moves the schema's checkpoint to `seq` (over messages that no longer exist).
  Status advance_checkpoint(StreamSeq seq);

  pqxx::connection& db_;
  nats::Connection& nats_;
  ReplayOptions options_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<db::BatchWriter> writer_;
  std::unique_ptr<MergedLog> log_;
  StreamSeq checkpoint_;
  ReplayStats stats_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;          // decoded batches, at most kQueueDepth
  std::uint64_t target_ = 0;         // the reader takes messages up to here
  bool quit_ = false;                // the owner is done
  std::optional<Error> read_error_;  // the reader stopped on this
  std::chrono::steady_clock::duration read_time_{}, decode_time_{};
  std::uint64_t archived_ = 0;
  StreamSeq complete_from_{1};
  std::thread reader_;
};

}  // namespace rmm::projector::rebuild
