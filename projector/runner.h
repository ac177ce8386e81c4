// The projector's main loop: fetch a batch from the durable pull consumer, decode each message,
// commit rows + dead letters + checkpoint in one transaction, THEN ack (AckAll: the batch's last
// message). A crash between commit and ack only causes a redelivery, which the checkpoint skips.
//
// The checkpoint is a high-water mark, so messages must be applied in stream order with no holes.
// A consumer may hand out later messages while earlier ones wait for redelivery (after a crash,
// the previous run's unacked batch); acking past them would lose them. So the first message past
// the checkpoint must be checkpoint + 1: on a gap the consumer is recreated from checkpoint + 1,
// and only a gap right after that (messages deleted from the stream) is accepted.
//
// Concurrency: one thread; `stop` may be set from a signal handler, and is honoured between
// batches (a fetch waits at most fetch-timeout), so a batch is never left half done.
// Limitations: one projection ("core") and one consumer for the whole stream: no partitioning yet.
#pragma once

#include <atomic>
#include <memory>
#include <pqxx/connection>

#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/result.h"
#include "projector/db/batch_writer.h"
#include "projector/settings.h"
#include "projector/ticker.h"

namespace rmm::projector {

class Runner {
 public:
  Runner(ProjectorOptions options, const std::atomic<bool>& stop);
  ~Runner();

  // Migrations, checkpoint, consumer. An error here is fatal (the caller exits non-zero).
  Status start();
  // Returns OK when `stop` was set, an error on an unrecoverable failure.
  Status run();

 private:
  Status connect_db();
  Status prepare_consumer();
  // Deletes the durable and creates it again, delivering from checkpoint + 1.
  Status reset_consumer();
  nats::PullConsumerSettings consumer_settings() const;
  // Writes `items`, reconnecting to PostgreSQL with backoff on failure. Fails only if `stop` is
  // set before a write succeeds.
  Result<db::BatchStats> write_with_retry(std::span<const BatchItem> items);
  // Creates the metrics partitions around today and drops those past retention (wall clock:
  // upkeep, not a fold). Failures are logged and retried at the next upkeep.
  void partition_upkeep();
  void sleep_interruptibly(std::chrono::milliseconds d) const;

  ProjectorOptions options_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<pqxx::connection> db_;
  std::unique_ptr<db::BatchWriter> writer_;
  std::unique_ptr<nats::Connection> nats_;
  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<nats::PullSubscription> sub_;
  std::unique_ptr<Ticker> ticker_;  // when options_.ticker
  StreamSeq checkpoint_;
  // True until the first message past the checkpoint arrives from a newly created consumer.
  bool fresh_consumer_ = false;
  std::chrono::steady_clock::time_point next_upkeep_{};
};

}  // namespace rmm::projector
