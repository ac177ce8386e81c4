// The projector's main loop: fetch a batch from the durable pull consumer, decode each message,
// commit rows + dead letters + checkpoint in one transaction, THEN ack (AckAll: the batch's last
// message). A crash between commit and ack only causes a redelivery, which the checkpoint skips.
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
  // Writes `items`, reconnecting to PostgreSQL with backoff on failure. Fails only if `stop` is
  // set before a write succeeds.
  Result<db::BatchStats> write_with_retry(std::span<const BatchItem> items);
  void sleep_interruptibly(std::chrono::milliseconds d) const;

  ProjectorOptions options_;
  const std::atomic<bool>& stop_;
  std::unique_ptr<pqxx::connection> db_;
  std::unique_ptr<db::BatchWriter> writer_;
  std::unique_ptr<nats::Connection> nats_;
  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<nats::PullSubscription> sub_;
  StreamSeq checkpoint_;
};

}  // namespace rmm::projector
