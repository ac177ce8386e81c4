// One stream read in order by an ordered push consumer (ephemeral, AckNone, flow-controlled,
// recreated by nats.c on a gap), synchronously. No per-message acks and no fetch round trips: the
// server streams while the caller works, and nats.c's read thread buffers what arrives in between
// (bounded by the consumer's flow control). The rebuild reads RMM_EVENTS and RMM_CONTROL this way
// (rebuild/merged_log.h puts the two together).
//
// Concurrency: one owner thread.
// Limitations: the consumer is ephemeral: a crashed reader leaves nothing to clean up (the server
// drops it after its inactivity threshold), and nothing survives a restart: a new rebuild starts
// over from the first sequence it asks for. Messages the stream deleted before they were
// delivered are simply not delivered: the reader sees a jump in the stream sequence.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/nats_message.h"
#include "common/result.h"

namespace rmm::projector::rebuild {

struct StreamMessage {
  StreamSeq seq;
  nats::Message message;
  UnixNanos stored_at = 0;  // the JetStream timestamp of the stream it was read from
};

class OrderedStream {
 public:
  // Delivers the stream from `first` (1 = the whole stream).
  static Result<std::unique_ptr<OrderedStream>> open(nats::Connection& conn,
                                                     const std::string& stream, StreamSeq first);
  ~OrderedStream();
  OrderedStream(const OrderedStream&) = delete;
  OrderedStream& operator=(const OrderedStream&) = delete;

  // The next message (its seq is this stream's sequence), or nullopt when none arrived within
  // `wait`.
  Result<std::optional<StreamMessage>> next(std::chrono::milliseconds wait);

 private:
  OrderedStream() = default;

  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
};

struct StreamState {
  std::uint64_t messages = 0;
  StreamSeq first, last;  // an empty stream that held messages: first = last + 1
  UnixNanos first_time = 0;
};

Result<StreamState> stream_state(nats::Connection& conn, const std::string& stream);

// The stream's last sequence (0 for a stream that never held a message).
Result<StreamSeq> stream_last_seq(nats::Connection& conn, const std::string& stream);

}  // namespace rmm::projector::rebuild
