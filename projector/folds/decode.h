// Turns one message of RMM_EVENTS into what the core projection does with it: an agent event to
// fold, a dead letter (with the reason and the raw bytes), or nothing. Pure: no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "projector/folds/agent_fold.h"
#include "projector/folds/control_fold.h"

namespace rmm::projector {

// Most bytes of a dead message kept in the row. The rest stays in the stream (the row names its
// stream_seq); the size and hash of the whole message are kept, so a copy can be checked. Agents
// send messages up to the broker's max_payload (1 MiB): without a bound one agent's garbage costs
// that much per row.
inline constexpr std::size_t kDeadLetterRawBytes = 16 * 1024;

struct DeadLetter {
  std::string subject;  // storable text
  std::string reason;
  std::vector<std::uint8_t> raw;              // the message's first kDeadLetterRawBytes
  std::int64_t raw_size = 0;                  // the whole message's size
  std::array<std::uint8_t, 32> raw_sha256{};  // of the whole message
  // Who could publish it, for the per-source cap (db/dead_letters.h): the agent id of an agent
  // subject (an agent can publish only under its own), "control" for rmm.ctl., else "other".
  std::string source;
  UnixNanos stored_at = 0;  // the stream's timestamp (0: never stored)
};

// Valid messages the core projection has no fold for (control events of other types).
struct Ignored {};

using Decoded = std::variant<AgentEvent, DeadLetter, Ignored, ControlEvent>;

// One message of a batch, tagged with its stream position.
struct BatchItem {
  StreamSeq stream_seq;
  Decoded decoded;
};

// Verifies (codec: FlatBuffers Verifier + file identifier), then checks the envelope against the
// subject. `stored_at` is the message's JetStream timestamp: an agent event's time is clamped
// around it (folds/event_time.h). Never throws on any input.
Decoded decode_message(std::string_view subject, std::span<const std::uint8_t> data,
                       UnixNanos stored_at);
// For messages that were never stored in a stream (tests, benchmarks of the folds): each agent
// event counts as stored at its own time, so no time is clamped. The projector never uses it:
// whatever it folds comes from a stream and has a timestamp.
Decoded decode_message(std::string_view subject, std::span<const std::uint8_t> data);

}  // namespace rmm::projector
