// Reads a stream in order through a JetStream *ordered* consumer: ephemeral, flow-controlled,
// acknowledgement-free, recreated by nats.c on a gap, and gone from the server when the reader
// closes (nothing left behind, no rights to acknowledge needed).
//
// Concurrency: one owner thread. Limitations: one filter subject (nats-server 2.9); the end of a
// non-follow read is the stream's state when the consumer was created (NumPending reaching 0).
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/nats_connection.h"
#include "common/nats_message.h"
#include "common/result.h"

namespace rmm::replay {

struct ReaderOptions {
  std::string stream = "RMM_EVENTS";
  std::string filter_subject;      // empty: the whole stream
  std::optional<UnixNanos> since;  // deliver from this stream time (OptStartTime)
  bool follow = false;             // keep waiting for new messages after the end
  // Longest silence tolerated before the end has been reached (the stream is local: a stall this
  // long means the consumer is broken).
  std::chrono::milliseconds stall_timeout{15'000};
};

struct Delivery {
  nats::Message message;
  std::uint64_t stream_seq = 0;
  UnixNanos stream_time = 0;
  std::uint64_t pending = 0;  // messages after this one, as the server counted at delivery
};

class OrderedReader {
 public:
  static Result<std::unique_ptr<OrderedReader>> open(nats::Connection& conn, ReaderOptions options);
  ~OrderedReader();
  OrderedReader(const OrderedReader&) = delete;
  OrderedReader& operator=(const OrderedReader&) = delete;

  // The next delivery; nullopt when a non-follow read reached the end (finished()), or when
  // `wait` passed or a message before `since` was dropped (call again). Fails on a stall or a
  // broken subscription.
  Result<std::optional<Delivery>> next(std::chrono::milliseconds wait);
  // True once a non-follow read delivered its last message.
  bool finished() const { return done_; }
  // Matching messages in the stream when the read started.
  std::uint64_t pending_at_start() const { return pending_at_start_; }
  // The server-side name of the current ephemeral consumer (for tests).
  std::string consumer_name() const;

 private:
  OrderedReader() = default;
  ReaderOptions options_;
  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::uint64_t pending_at_start_ = 0;
  bool done_ = false;
  std::chrono::steady_clock::time_point last_delivery_;
};

}  // namespace rmm::replay
