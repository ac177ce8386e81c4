// The rollout controller's decision for one rollout, as a pure function of what the read models
// say: start the first ring, start the next ring once enough of the current one is healthy, halt
// once too many of it failed, or complete after the last ring.
//
// A ring's members are its named agents (a canary set), or `percent` % of the agents in scope
// that no earlier ring took (at least one when the share rounds down to zero), chosen in a stable
// order (by agent id) so a restart of the controller picks the same agents.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
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
  std::vector<AgentId> in_scope;  // every agent of the rollout's scope (platform and arch match)
  std::map<AgentId, AgentUpdateState> updates;  // agents with an update to the target version
};

struct Decision {
  enum class Kind { kNothing, kStartRing, kHalt, kComplete } kind = Kind::kNothing;
  std::uint32_t ring_index = 0;
  std::vector<AgentId> agents;  // kStartRing: who gets the update
  std::string reason;           // kHalt
};

Decision decide(const RolloutState& state);

// "refused", "rolled_back" and "failed" are failures; "healthy" is success, and so is a refusal
// as "already_current" (the agent runs the version: a repeated command); other steps pending.
AgentUpdateState state_of_step(std::string_view step, std::string_view reason = {});

}  // namespace rmm::rollout
