// The rebuild's fast path through RMM_EVENTS: an ordered push consumer (ephemeral, AckNone,
// flow-controlled, recreated by nats.c on a gap) read synchronously. No per-message acks and no
// fetch round trips: the server streams while the caller writes to PostgreSQL, and nats.c's read
// thread buffers what arrives in between (bounded by the consumer's flow control).
//
// Concurrency: one owner thread.
// Limitations: the consumer is ephemeral: a crashed reader leaves nothing to clean up (the server
// drops it after its inactivity threshold), and nothing survives a restart: a new rebuild starts
// over from the first sequence it asks for.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/nats_message.h"
#include "common/result.h"

namespace rmm::projector::rebuild {

struct StreamMessage {
  StreamSeq seq;
  nats::Message message;
};

class OrderedStream {
 public:
  // Delivers the stream from `first` (1 = the whole stream).
  static Result<std::unique_ptr<OrderedStream>> open(nats::Connection& conn,
                                                     const std::string& stream, StreamSeq first);
  ~OrderedStream();
  OrderedStream(const OrderedStream&) = delete;
  OrderedStream& operator=(const OrderedStream&) = delete;

  // Appends up to `max` messages with stream sequence <= `upto` to `out`, in stream order. Waits at
  // most `wait` for the first one, then takes only what is already buffered (or arrives within a
  // millisecond). A message past `upto` is kept for a later call with a higher bound.
  Status next_batch(std::vector<StreamMessage>& out, std::size_t max, StreamSeq upto,
                    std::chrono::milliseconds wait);
  // Whether a message past the last call's bound is waiting: the caller is at its bound.
  bool holding() const { return held_.has_value(); }

 private:
  OrderedStream() = default;
  // One message, or nullopt when none arrived within `wait`.
  Result<std::optional<StreamMessage>> next(std::chrono::milliseconds wait);

  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
  std::optional<StreamMessage> held_;  // read past the caller's bound
};

// The stream's last sequence (0 for an empty stream).
Result<StreamSeq> stream_last_seq(nats::Connection& conn, const std::string& stream);

}  // namespace rmm::projector::rebuild
