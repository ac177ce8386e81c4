#include "tools/release/rollout/rollout_plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace rmm::rollout {
namespace {

std::set<AgentId> taken_before(const RolloutState& s, std::size_t ring) {
  std::set<AgentId> taken;
  for (std::size_t i = 0; i < ring; ++i) {
    const auto& earlier = s.rings[i];
    const auto& list = earlier.started ? *earlier.started : earlier.agents;
    taken.insert(list.begin(), list.end());
  }
  return taken;
}

// Fills the members of ring `ring` and who it left out into `d`.
void choose_members(const RolloutState& s, std::size_t ring, Decision& d) {
  const auto& plan = s.rings[ring];
  if (!plan.agents.empty()) {
    for (const auto& a : plan.agents) {
      (s.no_release.contains(a) ? d.no_release_for_platform : d.agents).push_back(a);
    }
    return;
  }
  const std::set<AgentId> taken = taken_before(s, ring);
  std::vector<AgentId> pool;
  for (const auto& a : s.in_scope) {
    if (!taken.contains(a)) pool.push_back(a);
  }
  std::sort(pool.begin(), pool.end());
  std::size_t n = s.in_scope.size() * std::min<std::uint32_t>(plan.percent, 100) / 100;
  if (plan.percent > 0 && n == 0) n = 1;
  n = std::min(n, pool.size());
  pool.resize(n);
  d.agents = std::move(pool);
  for (const auto& a : s.excluded_by_policy) {
    if (!taken.contains(a)) d.excluded_by_policy.push_back(a);
  }
  for (const auto& a : s.no_release) {
    if (!taken.contains(a)) d.no_release_for_platform.push_back(a);
  }
}

}  // namespace

AgentUpdateState state_of_step(std::string_view step, std::string_view reason) {
  if (step == "healthy" || (step == "refused" && reason == "already_current")) {
    return AgentUpdateState::kHealthy;
  }
  if (step == "refused" || step == "rolled_back" || step == "failed") {
    return AgentUpdateState::kFailed;
  }
  return AgentUpdateState::kPending;
}

Decision decide(const RolloutState& s) {
  Decision d;
  if (s.status == "halted" || s.status == "completed" || s.rings.empty()) return d;
  // The last started ring is the current one.
  std::optional<std::size_t> current;
  for (std::size_t i = 0; i < s.rings.size(); ++i) {
    if (s.rings[i].started) current = i;
  }
  if (!current) {
    d.kind = Decision::Kind::kStartRing;
    d.ring_index = 0;
    choose_members(s, 0, d);
    return d;
  }
  const auto& ring = *s.rings[*current].started;
  std::size_t healthy = 0, failed = 0;
  for (const auto& a : ring) {
    auto it = s.updates.find(a);
    if (it == s.updates.end()) continue;
    if (it->second == AgentUpdateState::kHealthy) ++healthy;
    if (it->second == AgentUpdateState::kFailed) ++failed;
  }
  const std::size_t n = ring.size();
  // Halting first: a ring can meet both bars at once only when the thresholds overlap.
  if (n > 0 && failed > 0 && failed * 100 >= s.halt_failed_percent * n) {
    d.kind = Decision::Kind::kHalt;
    d.reason = fmt::format("ring {} ({}): {} of {} agents failed the update (threshold {} %)",
                           *current, s.rings[*current].name, failed, n, s.halt_failed_percent);
    return d;
  }
  if (healthy * 100 < s.advance_healthy_percent * n) return d;  // still waiting
  if (*current + 1 == s.rings.size()) {
    d.kind = Decision::Kind::kComplete;
    return d;
  }
  d.kind = Decision::Kind::kStartRing;
  d.ring_index = static_cast<std::uint32_t>(*current + 1);
  choose_members(s, *current + 1, d);
  return d;
}

}  // namespace rmm::rollout
