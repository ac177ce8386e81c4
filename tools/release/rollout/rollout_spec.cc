#include "tools/release/rollout/rollout_spec.h"

#include <algorithm>
#include <charconv>
#include <set>
#include <utility>

namespace rmm::rollout {
namespace {

template <class... Args>
std::unexpected<Error> invalid(fmt::format_string<Args...> format, Args&&... args) {
  return fail(Error::Code::kInvalidInput, fmt::format(format, std::forward<Args>(args)...));
}

bool word_chars(std::string_view s, std::string_view extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           extra.find(c) != std::string_view::npos;
  });
}

Status check_word(std::string_view field, std::string_view value, std::size_t max,
                  std::string_view extra) {
  if (value.empty() || value.size() > max || !word_chars(value, extra)) {
    return invalid("'{}' must be 1..{} characters of [A-Za-z0-9{}]", field, max, extra);
  }
  return {};
}

}  // namespace

Result<codec::RolloutRingInfo> parse_ring_spec(std::string_view spec) {
  auto eq = spec.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return invalid("ring '{}': name=...", spec);
  }
  codec::RolloutRingInfo ring{std::string(spec.substr(0, eq)), {}, 0};
  std::string_view what = spec.substr(eq + 1);
  if (what.ends_with('%')) {
    std::uint32_t n = 0;
    auto digits = what.substr(0, what.size() - 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (ec != std::errc() || end != digits.data() + digits.size() || n == 0 || n > 100) {
      return invalid("ring '{}': percent must be 1..100", spec);
    }
    ring.percent = n;
    return ring;
  }
  while (!what.empty()) {
    auto plus = what.find('+');
    auto id = AgentId::parse(what.substr(0, plus));
    if (!id) return invalid("ring '{}': bad agent id", spec);
    ring.agents.push_back(*id);
    what = plus == std::string_view::npos ? std::string_view() : what.substr(plus + 1);
  }
  return ring;
}

Status check_rollout(const codec::RolloutCreatedInfo& info) {
  if (auto s = check_word("version", info.version, kMaxVersion, ".+-"); !s) return s;
  if (auto s = check_word("platform", info.platform, 32, "_-"); !s) return s;
  if (auto s = check_word("arch", info.arch, 32, "_-"); !s) return s;
  if (info.rings.empty() || info.rings.size() > kMaxRings) {
    return invalid("'rings' must hold 1..{} rings", kMaxRings);
  }
  std::set<std::string> names;
  for (const auto& ring : info.rings) {
    if (auto s = check_word("rings[].name", ring.name, kMaxRingName, "_-"); !s) return s;
    if (!names.insert(ring.name).second) {
      return fail(Error::Code::kInvalidInput, "ring names must be unique");
    }
    const bool named = !ring.agents.empty();
    if (named == (ring.percent != 0) || ring.percent > 100) {
      return fail(Error::Code::kInvalidInput,
                  "each ring needs either 'agent_ids' or a 'percent' of 1..100, not both");
    }
    if (ring.agents.size() > kMaxRingAgents) {
      return invalid("a ring names at most {} agents", kMaxRingAgents);
    }
    std::set<AgentId> distinct(ring.agents.begin(), ring.agents.end());
    if (distinct.size() != ring.agents.size()) {
      return fail(Error::Code::kInvalidInput, "a ring names each agent once");
    }
  }
  for (auto [field, value] : {std::pair{"advance_healthy_percent", info.advance_healthy_percent},
                              std::pair{"halt_failed_percent", info.halt_failed_percent}}) {
    if (value < 1 || value > 100) {
      return invalid("'{}' must be 1..100", field);
    }
  }
  return {};
}

}  // namespace rmm::rollout
