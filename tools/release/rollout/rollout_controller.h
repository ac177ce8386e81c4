// The rollout controller: a small service loop that reads the rollout read models (migration
// 0005: rollouts, rollout_rings, agent_updates; agents and sites for the scope) and acts on
// rollout_plan's decision: RolloutRingStarted plus one update_agent command per member (and its
// CommandIssued control event), RolloutHalted, or RolloutCompleted. Every action is an event, so
// the read models (and this controller after a restart) learn it from the log.
//
// Concurrency: one thread; run one controller per deployment (two would both start a ring:
// harmless for the agents, whose updater refuses the second command as already_current, but
// noisy).
// Limitations: the agents in scope are not filtered by platform and arch (a mismatching agent's
// updater refuses with wrong_platform/wrong_arch and counts as failed); the controller acts only
// on what the projector has folded, so it trails the log by the projector's lag.
#pragma once

#include <chrono>
#include <pqxx/connection>
#include <set>
#include <string>
#include <utility>

#include "admin/tenancy/control_publisher.h"
#include "common/control_plane_events.h"
#include "common/nats_jetstream.h"
#include "tools/release/rollout/rollout_plan.h"

namespace rmm::rollout {

class RolloutController {
 public:
  RolloutController(pqxx::connection& db, nats::JetStream& js, tenancy::ControlPublisher& events,
                    const Clock& clock)
      : db_(db), js_(js), events_(events), clock_(clock) {}

  // One pass over every created or running rollout; returns how many actions were taken.
  Result<int> run_once();

 private:
  Result<RolloutState> load(const std::string& rollout_id, std::string& version);
  Status start_ring(const RolloutId& rollout, const std::string& version, const Decision& decision);

  pqxx::connection& db_;
  nats::JetStream& js_;
  tenancy::ControlPublisher& events_;
  const Clock& clock_;
  // Rings this process started: never started twice while the projector has not folded the
  // RolloutRingStarted yet (or does not fold it at all).
  std::set<std::pair<std::string, std::uint32_t>> started_;
};

}  // namespace rmm::rollout
