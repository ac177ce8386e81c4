#include "tools/release/rollout/rollout_plan.h"

#include <doctest/doctest.h>

#include <algorithm>

using namespace rmm;
using namespace rmm::rollout;

namespace {

std::vector<AgentId> fleet(int n) {
  std::vector<AgentId> out;
  for (int i = 0; i < n; ++i) out.push_back(AgentId::generate(real_clock()));
  std::sort(out.begin(), out.end());
  return out;
}

RolloutState two_rings(const std::vector<AgentId>& agents, std::vector<AgentId> canary) {
  RolloutState s;
  s.status = "created";
  s.in_scope = agents;
  s.rings = {{"canary", std::move(canary), 0, std::nullopt}, {"everyone", {}, 100, std::nullopt}};
  s.advance_healthy_percent = 100;
  s.halt_failed_percent = 50;
  return s;
}

}  // namespace

TEST_CASE("a rollout starts its canary ring, then the rest once the canary is healthy") {
  auto agents = fleet(10);
  auto s = two_rings(agents, {agents[3], agents[7]});
  auto d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kStartRing);
  CHECK(d.ring_index == 0);
  CHECK(d.agents == std::vector<AgentId>{agents[3], agents[7]});
  s.status = "running";
  s.rings[0].started = d.agents;
  CHECK(decide(s).kind == Decision::Kind::kNothing);  // nobody reported yet
  s.updates[agents[3]] = AgentUpdateState::kHealthy;
  CHECK(decide(s).kind == Decision::Kind::kNothing);  // 50 % < 100 %
  s.updates[agents[7]] = AgentUpdateState::kHealthy;
  d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kStartRing);
  CHECK(d.ring_index == 1);
  CHECK(d.agents.size() == 8);  // everyone the canary did not take
  CHECK(std::find(d.agents.begin(), d.agents.end(), agents[3]) == d.agents.end());
  s.rings[1].started = d.agents;
  for (const auto& a : d.agents) s.updates[a] = AgentUpdateState::kHealthy;
  CHECK(decide(s).kind == Decision::Kind::kComplete);
}

TEST_CASE("a ring rollout halts when its canary fails") {
  auto agents = fleet(10);
  auto s = two_rings(agents, {agents[0], agents[1]});
  s.status = "running";
  s.rings[0].started = s.rings[0].agents;
  s.updates[agents[0]] = AgentUpdateState::kHealthy;
  s.updates[agents[1]] = AgentUpdateState::kFailed;  // rolled back: 1 of 2 = 50 %
  auto d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kHalt);
  CHECK(d.reason.find("1 of 2") != std::string::npos);
  s.status = "halted";
  CHECK(decide(s).kind == Decision::Kind::kNothing);  // a halted rollout stays halted
}

TEST_CASE("percent rings take a stable share, at least one agent") {
  auto agents = fleet(7);
  RolloutState s;
  s.status = "created";
  s.in_scope = agents;
  s.rings = {{"ten", {}, 10, std::nullopt}, {"half", {}, 50, std::nullopt}};
  auto d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kStartRing);
  CHECK(d.agents == std::vector<AgentId>{agents[0]});  // 10 % of 7 rounds to 0: one agent
  s.rings[0].started = d.agents;
  s.updates[agents[0]] = AgentUpdateState::kHealthy;
  d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kStartRing);
  CHECK(d.agents == std::vector<AgentId>{agents[1], agents[2], agents[3]});  // 50 % of 7 = 3
  CHECK(state_of_step("rolled_back") == AgentUpdateState::kFailed);
  CHECK(state_of_step("installed") == AgentUpdateState::kPending);
  CHECK(state_of_step("refused", "already_current") == AgentUpdateState::kHealthy);
  CHECK(state_of_step("refused", "downgrade") == AgentUpdateState::kFailed);
}

TEST_CASE("rings leave out agents without a release for their platform, and the opted-out") {
  auto agents = fleet(6);
  RolloutState s;
  s.status = "created";
  // agents[0..2]: auto_update on; [3]: off; [4], [5]: no release for their platform.
  s.in_scope = {agents[0], agents[1], agents[2]};
  s.excluded_by_policy = {agents[3]};
  s.no_release = {agents[4], agents[5]};
  s.rings = {{"canary", {agents[3], agents[4]}, 0, std::nullopt}, {"all", {}, 100, std::nullopt}};
  s.advance_healthy_percent = 100;
  s.halt_failed_percent = 50;
  auto d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kStartRing);
  // A named canary ignores the policy (agents[3]) but not the platform (agents[4]).
  CHECK(d.agents == std::vector<AgentId>{agents[3]});
  CHECK(d.no_release_for_platform == std::vector<AgentId>{agents[4]});
  CHECK(d.excluded_by_policy.empty());
  s.status = "running";
  s.rings[0].started = d.agents;
  s.updates[agents[3]] = AgentUpdateState::kHealthy;
  d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kStartRing);
  CHECK(d.ring_index == 1);
  CHECK(d.agents == std::vector<AgentId>{agents[0], agents[1], agents[2]});
  CHECK(d.excluded_by_policy.empty());  // agents[3] was taken by the canary ring
  CHECK(d.no_release_for_platform == std::vector<AgentId>{agents[4], agents[5]});
  // A ring whose members were all left out is empty, and the rollout moves on.
  s.rings[1].started = std::vector<AgentId>{};
  s.rings.push_back({"late", {agents[5]}, 0, std::nullopt});
  d = decide(s);
  REQUIRE(d.kind == Decision::Kind::kStartRing);
  CHECK(d.agents.empty());
}
