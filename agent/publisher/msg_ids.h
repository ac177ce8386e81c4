// Nats-Msg-Id of the agent's two lanes, and parsing them back in the ack callback.
//   ordered lane:  "<agent id>:<seq>"     (codec::agent_msg_id)
//   presence lane: "<agent id>:hb:<n>"    (the heartbeat counter of the outbox)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/ids.h"

namespace rmm::agent {

enum class Lane : std::uint8_t { kOrdered = 0, kPresence = 1 };

struct LaneSeq {
  Lane lane = Lane::kOrdered;
  std::uint64_t n = 0;
  bool operator==(const LaneSeq&) const = default;
};

std::string presence_msg_id(const AgentId& agent, std::uint64_t n);
// nullopt for an id that is not one of `agent_prefix` ("<agent id>:") followed by a lane position.
std::optional<LaneSeq> parse_msg_id(std::string_view msg_id, std::string_view agent_prefix);

}  // namespace rmm::agent
