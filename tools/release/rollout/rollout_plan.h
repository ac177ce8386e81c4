// The rollout controller's decision for one rollout, as a pure function of what the read models
// say: start the first ring, start the next ring once enough of the current one is healthy, halt
// once too many of it failed, or complete after the last ring.
//
// A ring's members are its named agents (a canary set), or `percent` % of the eligible agents in
// scope that no earlier ring took (at least one when the share rounds down to zero), chosen in a
// stable order (by agent id) so a restart of the controller picks the same agents.
//
// Eligible: a release of the version exists for the agent's platform and arch, and (percentage
// rings only) its effective `auto_update` policy is "on". Named canary agents are an explicit
// choice and ignore the policy, but not the platform. The left-out agents travel with the ring's
// start (RolloutRingStarted) so the read model can show them; they never count as failures.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/ids.h"

namespace rmm::rollout {

enum class AgentUpdateState { kPending, kHealthy, kFailed };

struct RingPlan {
  std::string name;
  std::vector<AgentId> agents;                  // a named canary set
  std::uint32_t percent = 0;                    // used when `agents` is empty
  std::optional<std::vector<AgentId>> started;  // the members, once the ring started
};

struct RolloutState {
  std::string status;  // created, running, halted, completed
  std::vector<RingPlan> rings;
  std::uint32_t advance_healthy_percent = 100;
  std::uint32_t halt_failed_percent = 0;
  // Agents of the rollout's scope percentage rings may take (a release for their platform and
  // arch, auto_update on).
  std::vector<AgentId> in_scope;
  // Agents of the scope with a release for their platform whose auto_update is not "on".
  std::vector<AgentId> excluded_by_policy;
  // Agents (of the scope, or named by a ring) without a release for their platform and arch.
  std::set<AgentId> no_release;
  std::map<AgentId, AgentUpdateState> updates;  // agents with an update to the target version
};

struct Decision {
  enum class Kind { kNothing, kStartRing, kHalt, kComplete } kind = Kind::kNothing;
  std::uint32_t ring_index = 0;
  std::vector<AgentId> agents;  // kStartRing: who gets the update
  // kStartRing: who the ring left out (not counted as members, never failures).
  std::vector<AgentId> excluded_by_policy;
  std::vector<AgentId> no_release_for_platform;
  std::string reason;  // kHalt
};

Decision decide(const RolloutState& state);

// "refused", "rolled_back" and "failed" are failures; "healthy" is success, and so is a refusal
// as "already_current" (the agent runs the version: a repeated command); other steps pending.
AgentUpdateState state_of_step(std::string_view step, std::string_view reason = {});

}  // namespace rmm::rollout
