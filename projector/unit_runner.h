// One unit of the partitioned projection (docs/architecture.md, "Partitioned projection"): a
// durable pull consumer filtered to the unit's subjects, folded under the unit's own checkpoint,
// watermark and owner lock, on a PostgreSQL connection of its own.
//
// Each round: with nothing in hand, ask the consumer whether anything waits and fetch only then
// (a fetch that waits out its timeout empty would hide a peer's wants from the unit); keep what
// is new, cut what is in hand at the peers' lowest watermark, write the cut part with
// db::UnitContinuity, then ack it (AckAll).
// While the first message in hand may not go yet, the unit publishes that message's sequence
// minus one as its watermark and as what it wants from its peers, and waits `barrier_poll`; a
// caught-up unit publishes the stream's last sequence once its consumer has nothing pending or
// unacked. So no unit waits for ever: the lowest unfolded message of the whole stream can always
// go. How soon: an idle unit raises its watermark unasked once per fetch-timeout, but at once
// (rounds of 20 ms) while a peer wants more than it has; it looks every 250 ms otherwise, so a
// waiting unit is seen within that. Under load the control unit is nearly always wanted, and an
// agent event is folded within tens of milliseconds, not a fetch-timeout.
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
// Stream losses: a unit's position is the higher of its checkpoint and its watermark (every
// message of the unit up to there is committed). When the stream's first sequence is past it (read
// at the consumer's creation; before an idle unit raises its watermark; after each of the control
// unit's fetches: a consumer skips deleted messages silently), the messages between may have been
// the unit's and are gone: the unit proves the range deleted
// and, before it folds anything past it, writes one transaction that records it for the
// projection (db::record_unit_stream_loss: once for all units, see db/stream_losses.h) and moves
// its checkpoint and watermark to the range's end. The control unit folds the range's control
// events from the control archive (loss_recovery.h) in that transaction, under their sequences,
// once its peers let it (like any batch); until then its watermark stays below the range, so no
// partition passes the range before its control events are folded. An archive that cannot supply
// the range yet ends the unit's run with an error (it is taken again at the next lock poll).
// Limitations: what a unit held in memory when it found the stream deleted past its position is
// dropped with the range and counted in it (the stream no longer holds it either). A partition
// unit does not read the stream after each fetch (a request per fetch of 16 units slowed the fold
// too much): while it is busy, messages of its own the stream deletes before delivering them are
// skipped unrecorded; a range deleted while it is stopped or idle is recorded.
// A rebuild (rebuild/parallel_fold.h) runs the same fold bounded: on a connection it prepared (its
// scratch schema), without the owner lock, ticker or upkeep, folding no message past a bound and
// returning once the unit's watermark reached it.
#pragma once

#include <algorithm>
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

  // Reads the checkpoint and the unit's own watermark, settles a range the stream deleted past
  // them, and creates the consumer from the checkpoint.
  Status start_consumer();
  // Proves `from` .. `to` deleted and writes the loss transaction (see the file comment).
  Status settle_loss(std::uint64_t from, std::uint64_t to);
  // Whether the stream's first sequence is past `position` + 1 (read now): then what is in hand
  // is dropped and the consumer started again, settling the range first (true).
  Result<bool> deleted_past(std::uint64_t position);
  // Every message of the unit up to here is committed (or recorded lost).
  std::uint64_t position() const { return std::max(checkpoint_.value, watermark_); }
  // Fetches (waiting up to `wait`) and keeps what is new; false when a hole in the consumer
  // sequence reset it.
  Result<bool> fetch_more(std::chrono::milliseconds wait);
  // True when a peer waits for a watermark above this unit's (it published `wanted`).
  bool demanded();
  // With nothing in hand: asks the consumer whether anything waits to be fetched (true). When
  // nothing does and every delivery is acked, `last_seq` (the stream's end, read before) becomes
  // the watermark.
  bool probe(std::optional<std::uint64_t> last_seq);
  // After a fetch that brought nothing: true (reported) when that has lasted kStalledAfter while
  // the consumer counted pending messages.
  bool stalled();
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
  std::uint64_t wanted_ = 0;     // the highest peer watermark this runner said it waits for
  std::uint64_t last_consumer_seq_ = 0;
  std::uint64_t highest_seen_ = 0;  // stream sequence of the newest delivery kept
  std::chrono::steady_clock::time_point next_upkeep_{};
  std::optional<std::chrono::steady_clock::time_point> waiting_since_;  // for the peers
  std::chrono::steady_clock::time_point next_wait_report_{};
  std::chrono::steady_clock::time_point next_idle_raise_{};  // unasked, once per fetch-timeout
  std::chrono::steady_clock::time_point next_own_row_check_{};
  // Since when the consumer counts a delivery this runner has not seen.
  std::optional<std::chrono::steady_clock::time_point> missing_since_;
  // Since when the consumer counts unacked deliveries while nothing is in hand.
  std::optional<std::chrono::steady_clock::time_point> unacked_since_;
  // Since when fetches bring nothing although the consumer counts pending messages, and what it
  // counted last (for the report).
  std::optional<std::chrono::steady_clock::time_point> empty_since_;
  std::uint64_t probed_pending_ = 0, probed_unacked_ = 0;
  const std::atomic<bool>* stop_ = nullptr;  // run()'s, for the waits outside its loop
  const std::atomic<bool>* release_ = nullptr;
};

}  // namespace rmm::projector
