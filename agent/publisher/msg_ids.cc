#include "agent/publisher/msg_ids.h"

#include <fmt/format.h>

#include <charconv>

namespace rmm::agent {

std::string presence_msg_id(const AgentId& agent, std::uint64_t n) {
  return fmt::format("{}:hb:{}", agent.str(), n);
}

std::optional<LaneSeq> parse_msg_id(std::string_view msg_id, std::string_view agent_prefix) {
  if (!msg_id.starts_with(agent_prefix)) return std::nullopt;
  auto rest = msg_id.substr(agent_prefix.size());
  LaneSeq out;
  if (rest.starts_with("hb:")) {
    out.lane = Lane::kPresence;
    rest.remove_prefix(3);
  }
  auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), out.n);
  if (ec != std::errc() || ptr != rest.data() + rest.size() || rest.empty() || out.n == 0) {
    return std::nullopt;
  }
  return out;
}

}  // namespace rmm::agent
