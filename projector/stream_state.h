// What the live projector asks the stream about itself beyond its state and limits
// (common/stream_usage.h): the lag against those limits (warned about before they delete unfolded
// messages), and whether a range of sequences is really gone
// (before a jump over it is accepted as a stream loss).
//
// A gap may be accepted only for sequences the stream no longer holds: below its first sequence
// (deleted from the front by max_msgs, max_bytes, max_age) or each one looked up and not found
// (deleted individually). Anything else (a message that still exists, a range too long to check)
// is refused, so the consumer is recreated and the messages are delivered, not skipped.
//
// Concurrency: each call makes JetStream API requests on the caller's thread (bounded by the
// context's API timeout).
// Limitations: the individual checks are bounded (kMaxGapChecks); a longer interior gap is refused
// and needs an operator (docs/operations.md, "When the stream overflows").
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/ids.h"
#include "common/result.h"
#include "common/stream_usage.h"

namespace rmm::projector {

inline constexpr std::uint64_t kMaxGapChecks = 256;

// The stream time (Unix ns) of message `seq`; nullopt when the stream does not hold it.
Result<std::optional<std::int64_t>> stream_message_time(jsCtx* js, const std::string& stream,
                                                        StreamSeq seq);

struct GapVerdict {
  bool deleted = false;  // every sequence in the range is gone from the stream
  std::string reason;    // how that was proven, or why not
};

// Whether `from` .. `to` (inclusive) are all gone from `stream`, with at most kMaxGapChecks
// lookups of single messages.
Result<GapVerdict> prove_deleted(jsCtx* js, const std::string& stream, StreamSeq from,
                                 StreamSeq to);

// The unfolded part of the stream against its limits.
struct LagReport {
  std::uint64_t lag_msgs = 0;   // stored messages past the checkpoint
  std::uint64_t lag_bytes = 0;  // estimated: lag_msgs at the stream's average message size
  int msgs_percent = 0;         // of max_msgs (0 without a limit)
  int bytes_percent = 0;        // of max_bytes (0 without a limit)
  int age_percent = 0;          // age of the oldest unfolded message, of max_age
  bool near_limit = false;      // one of the percentages reached the warning threshold
  // Sequences past the checkpoint the stream already deleted (first_seq > checkpoint + 1).
  std::optional<std::pair<std::uint64_t, std::uint64_t>> lost;
};

// `oldest_unfolded_age_ns`: the age of the first stored message past the checkpoint, if known.
LagReport assess_lag(const nats::StreamUsage& s, StreamSeq checkpoint, int warn_percent,
                     std::optional<std::int64_t> oldest_unfolded_age_ns);

}  // namespace rmm::projector
