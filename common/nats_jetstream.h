// JetStream on top of a Connection: publish with the Nats-Msg-Id dedupe header (sync or async with
// ack tracking), and durable pull consumers with batch fetch.
//
// Concurrency: the AckCallback runs on nats.c's threads; it must only hand work off (queue,
// atomic), never block on disk or a database. Limitations: nats.c 3.4.1 / nats-server 2.9.10: one
// filter subject per consumer, no Object Store.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/nats_connection.h"
#include "common/nats_message.h"

namespace rmm::nats {

struct PubAck {
  std::string stream;
  StreamSeq seq;
  bool duplicate = false;
};

// Called once per async publish: the message's Nats-Msg-Id and either the ack or the error.
using AckCallback = std::function<void(const std::string& msg_id, Result<PubAck> ack)>;

struct JetStreamOptions {
  std::chrono::milliseconds api_wait{5000};
  int max_pending = 4096;                     // async in-flight window
  std::chrono::milliseconds stall_wait{500};  // how long publish_async waits for room
  AckCallback on_ack;                         // needed for publish_async
};

struct PullConsumerSettings {
  std::string stream;
  std::string durable;
  std::string filter_subject;    // one subject at most on 2.9.10: never several
  StreamSeq start_after;         // used only when the consumer is created: deliver from +1
  int max_ack_pending = 20'000;  // must exceed the fetch batch
  std::chrono::seconds ack_wait{30};
  bool ack_all = false;  // AckAll: acking a message acks every earlier one
};

class PullSubscription;

class JetStream {
 public:
  static Result<std::unique_ptr<JetStream>> create(Connection& conn, JetStreamOptions options);
  ~JetStream();
  JetStream(const JetStream&) = delete;
  JetStream& operator=(const JetStream&) = delete;

  // Waits for the stream's ack (or `timeout`).
  Result<PubAck> publish(const std::string& subject, std::span<const std::uint8_t> data,
                         const std::string& msg_id, std::chrono::milliseconds timeout);
  // Queues the message; its outcome arrives at JetStreamOptions::on_ack.
  Status publish_async(const std::string& subject, std::span<const std::uint8_t> data,
                       const std::string& msg_id);
  Status publish_async_complete(std::chrono::milliseconds timeout);

  // Creates the durable pull consumer if it does not exist (an existing one is kept as is).
  Status ensure_pull_consumer(const PullConsumerSettings& settings);
  Result<std::unique_ptr<PullSubscription>> pull_subscribe(const PullConsumerSettings& settings);

  jsCtx* raw() const { return js_; }

 private:
  JetStream() = default;
  static void on_async_ack(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure);

  JetStreamOptions options_;
  jsCtx* js_ = nullptr;
};

// A bound durable pull consumer.
class PullSubscription {
 public:
  ~PullSubscription();
  // Up to `batch` messages; an empty vector when none arrived within `timeout`.
  Result<std::vector<Message>> fetch(int batch, std::chrono::milliseconds timeout);

 private:
  friend class JetStream;
  explicit PullSubscription(natsSubscription* sub) : sub_(sub) {}
  natsSubscription* sub_;
};

}  // namespace rmm::nats
