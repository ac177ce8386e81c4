// Turns one message of RMM_EVENTS into what the core projection does with it: an agent event to
// fold, a dead letter (with the reason and the raw bytes), or nothing. Pure: no I/O.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/ids.h"
#include "projector/folds/agent_fold.h"
#include "projector/folds/control_fold.h"

namespace rmm::projector {

struct DeadLetter {
  std::string subject;  // storable text
  std::string reason;
  std::vector<std::uint8_t> raw;
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
// subject. Never throws on any input.
Decoded decode_message(std::string_view subject, std::span<const std::uint8_t> data);

}  // namespace rmm::projector
