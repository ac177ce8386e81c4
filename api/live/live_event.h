// What the live stream shows, decoded from one message of the event log as it is published
// (core NATS, not the stream): agent presence, command status and output, metrics. Anything else
// decodes to nothing.
//
// The agent of an agent event is the one in the subject (the broker vouches for it); an envelope
// naming another agent is dropped. Agent-supplied bytes (command output) become valid UTF-8 text
// (invalid sequences replaced by U+FFFD) and are escaped as JSON; they are data, never markup.
//
// Concurrency: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/ids.h"

namespace rmm::api::live {

enum class LiveKind {
  kPresence,       // the agent spoke (heartbeat, start): the hub turns it into `agent` events
  kAgentRevoked,   // `agent` with status "revoked"
  kCommand,        // `command`
  kCommandOutput,  // `command_output`
  kMetrics,        // `metrics`
};

struct LiveEvent {
  LiveKind kind = LiveKind::kPresence;
  AgentId agent;
  std::int64_t occurred_at_ns = 0;
  std::string data;  // the SSE `data:` JSON (one line); empty for kPresence
};

// Decodes a message published on `subject` (rmm.p.<k>.evt.<agent>.<type> or rmm.ctl.>).
std::optional<LiveEvent> decode_live_event(std::string_view subject,
                                           std::span<const std::uint8_t> bytes);

// `bytes` as UTF-8 text, each invalid sequence replaced by U+FFFD.
std::string sanitize_utf8(std::span<const std::uint8_t> bytes);

// One SSE frame: "event: <name>\ndata: <json>\n\n" (the JSON holds no raw newline).
std::string sse_frame(std::string_view event, std::string_view data);

}  // namespace rmm::api::live
