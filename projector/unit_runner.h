// One unit of the partitioned projection (docs/architecture.md, "Partitioned projection"): a
// durable pull consumer filtered to the unit's subjects, folded under the unit's own checkpoint,
// watermark and owner lock, on a PostgreSQL connection of its own.
//
// Each round: fetch (only when nothing is in hand), keep what is new, cut what is in hand at the
// peers' lowest watermark, write the cut part with db::UnitContinuity, then ack it (AckAll).
// While the first message in hand may not go yet, the unit publishes that message's sequence
// minus one as its watermark and waits `barrier_poll`; a caught-up unit publishes the stream's
// last sequence once its consumer has nothing pending or unacked. So no unit waits for ever: the
// lowest unfolded message of the whole stream can always go.
//
// Continuity: a unit's stream sequences have holes by design (the other units' messages). A
// consumer is always created from checkpoint + 1, so its first delivery is the unit's next stored
// message; after that the consumer sequence must grow by one per delivery (redeliveries count
// too), and a delivery whose stream sequence is not past what is already in hand or committed is
// a redelivery and skipped. A hole in the consumer sequence (a delivery lost on its way) drops
// what is in hand and recreates the consumer from the checkpoint.
//
// Concurrency: run() on one thread per unit; `stop` and `release` are read between rounds (a
// fetch waits at most fetch-timeout, a barrier wait barrier-poll), so a transaction is never left
// half done. The NATS connection is shared by every unit of the process (nats.c connections are
// thread-safe) and must outlive the runner.
// A rebuild (rebuild/parallel_fold.h) runs the same fold bounded: on a connection it prepared (its
// scratch schema), without the owner lock, ticker or upkeep, folding no message past a bound and
// returning once the unit's watermark reached it; an idle bounded unit asks its consumer whether
// anything is left before it fetches, instead of waiting out an empty fetch.
// Limitations: a range the stream deleted before the unit folded it is logged, not yet recorded in
// ops.stream_losses nor refilled from the control archive as the single projection does.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/result.h"
#include "projector/db/batch_writer.h"
#include "projector/folds/decode.h"
#include "projector/settings.h"
#include "projector/ticker.h"

namespace rmm::projector {

struct Unit {
  std::string name;                // projection name and lock: "core/p3", "core/ctl"
  std::string filter;              // "rmm.p.3.evt.*.*", "rmm.ctl.>" (within the stream's subjects)
  std::vector<std::string> peers;  // the units it may not pass
  bool control = false;            // runs the ticker and the partition upkeep
};

// The agent partitions 0 .. partitions - 1 (the server's {{partition(N,1)}} mapping) and the
// control unit, each partition's peer being the control unit and the control unit's every
// partition.
std::vector<Unit> partitioned_units(int partitions);

// The durable consumer name of `unit` under `base` ("projector" -> "projector-p3").
std::string unit_durable(const std::string& base, const Unit& unit);

// A bounded fold (a rebuild's): nothing past `until` is folded.
struct UnitBound {
  StreamSeq until;
  // Raw metric rows before this are not written (db::BatchWriter::skip_raw_metrics_before).
  UnixNanos skip_raw_metrics_before = std::numeric_limits<UnixNanos>::min();
};

// Wakes the units of one process that wait for their peers as soon as one of them raised its
// watermark, instead of at their next barrier poll. The watermarks themselves are still read
// from the database, as across processes; this only shortens the wait.
class BarrierSignal {
 public:
  void raised();
  std::uint64_t generation();
  // Returns when raised() was called after `seen` was read, or after `max`.
  void wait(std::uint64_t seen, std::chrono::milliseconds max);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::uint64_t generation_ = 0;
};

class UnitRunner {
 public:
  // `signal` (optional) is shared by the units of the process and outlives them.
  UnitRunner(const ProjectorOptions& options, Unit unit, nats::Connection& nats,
             std::string application_name, BarrierSignal* signal = nullptr);
  ~UnitRunner();
  UnitRunner(const UnitRunner&) = delete;
  UnitRunner& operator=(const UnitRunner&) = delete;

  // Connects to PostgreSQL and tries the unit's lock once: false when another process holds it.
  Result<bool> try_own();
  // Folds on `conn` (its search_path already at the target schema) without the owner lock, up to
  // `bound` only: the target schema is the caller's alone.
  Status adopt(std::unique_ptr<pqxx::connection> conn, const UnitBound& bound);
  // Deletes the unit's durable consumer (a bounded fold's ends with it); best effort.
  void delete_consumer();
  // Folds until `stop` or `release` is set (OK) or the unit's ownership is lost (an error).
  // A bounded fold returns OK once every message of the unit up to its bound is committed.
  Status run(const std::atomic<bool>& stop, const std::atomic<bool>& release);

  const Unit& unit() const { return unit_; }
  StreamSeq checkpoint() const { return checkpoint_; }
  std::uint64_t watermark() const { return watermark_; }
  std::uint64_t folded() const { return folded_; }  // messages committed by this runner

 private:
  struct InHand {
    std::uint64_t seq = 0;
    nats::Message message;
    Decoded decoded;
  };

  Status start_consumer();
  // Fetches and keeps what is new; false when a hole in the consumer sequence reset it.
  Result<bool> fetch_more();
  // After an empty fetch: the stream's last sequence becomes the watermark when the consumer has
  // nothing pending or unacked (`last_seq` was read before that fetch).
  void raise_idle_watermark(std::uint64_t last_seq);
  Status publish_watermark(std::uint64_t watermark);
  // Writes the part of `in_hand_` the peers allow; kConflict when refused or ownership was lost.
  Result<std::size_t> write_allowed();
  void upkeep();

  const ProjectorOptions& options_;
  const Unit unit_;
  nats::Connection& nats_;
  const std::string application_name_;
  std::unique_ptr<pqxx::connection> db_;
  std::unique_ptr<db::BatchWriter> writer_;
  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<nats::PullSubscription> sub_;
  std::unique_ptr<Ticker> ticker_;  // the control unit's
  BarrierSignal* signal_ = nullptr;
  std::uint64_t barrier_seen_ = 0;  // the signal's generation before the last barrier read
  std::optional<UnitBound> bound_;
  std::uint64_t folded_ = 0;
  std::vector<InHand> in_hand_;  // new deliveries in stream order, not yet committed
  StreamSeq checkpoint_;
  std::uint64_t watermark_ = 0;  // the highest this runner published or committed
  std::uint64_t last_consumer_seq_ = 0;
  std::uint64_t highest_seen_ = 0;  // stream sequence of the newest delivery kept
  std::chrono::steady_clock::time_point next_upkeep_{};
  std::optional<std::chrono::steady_clock::time_point> waiting_since_;  // for the peers
  std::chrono::steady_clock::time_point next_wait_report_{};
};

}  // namespace rmm::projector
