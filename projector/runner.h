// The projector's main loop: fetch a batch from the durable pull consumer, decode each message,
// commit rows + dead letters + checkpoint in one transaction, THEN ack (AckAll: the batch's last
// message). A crash between commit and ack only causes a redelivery, which the checkpoint skips.
//
// Fetching and decoding run ahead on a reader thread (FetchAhead) while the previous transaction
// is written. When the stream is backlogged, fetches pile up during a write and the next
// transaction takes every fetch that is ready, up to catch-up-events messages: the per-agent
// latest-state, rollup and agents upserts are then paid once per agent per transaction instead
// of once per fetch. The checkpoint still moves in the same transaction as the rows it covers.
// When the stream is not backlogged, each fetch returns early and is written at once (low lag).
//
// The checkpoint is a high-water mark, so messages must be applied in stream order with no holes.
// A consumer may hand out later messages while earlier ones wait for redelivery (after a crash,
// the previous run's unacked batch); acking past them would lose them. So the first message past
// the checkpoint must be checkpoint + 1: on a gap the consumer is recreated from checkpoint + 1,
// and a gap right after that is accepted only when the stream no longer holds those sequences
// (stream_state.h). The range's control events are then read from the control archive and
// folded first, each under its own sequence (loss_recovery.h; while the archive lags the gap is
// retried, never passed), and what is really gone is logged at error level and recorded as a
// stream loss in the batch's transaction. The writer checks the same rule against the checkpoint
// row (db::Continuity).
//
// One owner per projection (db/projection_lock.h): the runner takes the projection's advisory
// lock on its writer connection before it migrates, reads the checkpoint or touches the durable
// consumer, and again after every reconnect. A second process waits as a standby, logging who
// holds the lock, and takes over when the owner's connection goes.
//
// Every stream-check-interval the unfolded part of the stream is compared with the stream's
// limits: a warning past lag-warn-percent, an error once the stream deleted unfolded messages.
//
// Concurrency: the folds and writes run on the caller's thread, fetch and decode on FetchAhead's;
// `stop` may be set from a signal handler, and is honoured between transactions (a fetch waits
// at most fetch-timeout) and while waiting as a standby, so a transaction is never left half done.
// Limitations: one projection ("core") and one consumer for the whole stream: no partitioning yet.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/result.h"
#include "projector/db/batch_writer.h"
#include "projector/db/stream_losses.h"
#include "projector/folds/decode.h"
#include "projector/ops_http.h"
#include "projector/settings.h"
#include "projector/status.h"
#include "projector/stream_watch.h"
#include "projector/ticker.h"

namespace rmm::projector {

// One fetch of the pull consumer, decoded on the reader thread.
struct Fetched {
  struct Item {
    std::uint64_t seq = 0;  // 0: the message had no JetStream metadata
    nats::Message message;  // kept until the ack
    Decoded decoded;
  };
  std::vector<Item> items;     // in arrival order
  std::optional<Error> error;  // the fetch failed: the reader stopped after it
};

// Fetches and decodes on its own thread, at most `depth` fetches ahead of the caller.
//
// Concurrency: take()/try_take() from one thread; the subscription must outlive the object (the
// destructor stops and joins the thread, which waits at most one fetch timeout).
class FetchAhead {
 public:
  FetchAhead(nats::PullSubscription& sub, int batch, std::chrono::milliseconds timeout,
             std::size_t depth);
  ~FetchAhead();
  FetchAhead(const FetchAhead&) = delete;
  FetchAhead& operator=(const FetchAhead&) = delete;

  // The oldest ready fetch (a failed one too), waiting up to `wait`; nullopt if none came.
  std::optional<Fetched> take(std::chrono::milliseconds wait);
  // The oldest ready fetch if it succeeded, without waiting (a failure stays for take()).
  std::optional<Fetched> try_take_ok();
  // Time the reader spent fetching (including waits on an idle stream) and decoding.
  std::pair<std::chrono::steady_clock::duration, std::chrono::steady_clock::duration> times();

 private:
  void loop();

  nats::PullSubscription& sub_;
  const int batch_;
  const std::chrono::milliseconds timeout_;
  const std::size_t depth_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Fetched> ready_;
  bool quit_ = false;
  std::chrono::steady_clock::duration fetch_time_{}, decode_time_{};
  std::thread thread_;
};

class Runner {
 public:
  Runner(ProjectorOptions options, const std::atomic<bool>& stop);
  ~Runner();

  // Ownership (waiting as a standby while another process owns the projection), migrations,
  // checkpoint, consumer. An error here is fatal (the caller exits non-zero); `stop` set while
  // waiting returns OK, and run() then returns at once.
  Status start();
  // Returns OK when `stop` was set, an error on an unrecoverable failure.
  Status run();

 private:
  Status connect_db();
  // Takes the projection's owner lock on the writer connection, waiting as a standby (polling
  // every lock-poll-interval) while another session holds it. False when `stop` was set first.
  bool take_ownership();
  // After ownership was lost and taken again: the checkpoint may have moved, the consumer too.
  Status resume_as_owner();
  // Compares the unfolded part of the stream with its limits (see the class comment).
  void check_stream();
  Status prepare_consumer();
  // Deletes the durable and creates it again, delivering from checkpoint + 1.
  Status reset_consumer();
  nats::PullConsumerSettings consumer_settings() const;
  // Writes `items` after the checkpoint (and over `loss`, proven deleted), reconnecting to
  // PostgreSQL with backoff on failure and taking the owner lock again after a reconnect. Fails
  // if `stop` is set before a write succeeds, with kConflict when the writer refused the batch or
  // another process took the projection over (then owner_ is false).
  Result<db::BatchStats> write_with_retry(std::span<const BatchItem> items,
                                          const std::optional<db::StreamLoss>& loss);
  // The fetches of the next transaction: the first (waiting up to fetch-timeout), then every
  // fetch already read ahead, up to catch-up-events messages. Empty when none came.
  std::vector<Fetched> take_fetches();
  void start_fetch_ahead();
  // Creates the metrics partitions around today and drops those past retention (wall clock:
  // upkeep, not a fold). Failures are logged and retried at the next upkeep.
  void partition_upkeep();
  void sleep_interruptibly(std::chrono::milliseconds d) const;
  // The main loop (or a wait inside it) went round: liveness and ownership for the ops endpoint.
  void beat() {
    status_.beat();
    status_.set_owner(owner_);
  }

  ProjectorOptions options_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<pqxx::connection> db_;
  std::unique_ptr<db::BatchWriter> writer_;
  std::unique_ptr<nats::Connection> nats_;
  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<nats::PullSubscription> sub_;
  std::unique_ptr<FetchAhead> fetch_ahead_;  // reads sub_: always reset before it
  std::unique_ptr<Ticker> ticker_;           // when options_.ticker
  StreamSeq checkpoint_;
  // True until the first message past the checkpoint arrives from a newly created consumer.
  bool fresh_consumer_ = false;
  // This process holds the projection's owner lock on db_ (lost with the connection).
  bool owner_ = false;
  const std::string application_name_;
  std::chrono::steady_clock::time_point next_upkeep_{};
  std::chrono::steady_clock::time_point next_stream_check_{};
  std::unique_ptr<StreamWatch> stream_watch_;  // reads through js_: reset before it
  ProjectorStatus status_;
  std::unique_ptr<OpsHttp> ops_;  // serves status_: declared after it, so stopped first
};

}  // namespace rmm::projector
