// The rollout controller: a small service loop that reads the rollout read models (migrations
// 0005 and 0007: rollouts, rollout_rings, agent_updates; agents, sites, agent_inventory,
// effective_policies and releases for the scope) and acts on rollout_plan's decision:
// RolloutRingStarted plus one update_agent command per member (and its CommandIssued control
// event), RolloutHalted, or RolloutCompleted. Every action is an event, so the read models (and
// this controller after a restart) learn it from the log.
//
// Restart safety, twice over:
//   - it decides only on read models that include its own last action: after publishing, and at
//     start-up (the last sequence of RMM_EVENTS then), it waits until the core projection's
//     checkpoint has passed that sequence, so a restarted controller sees the ring it started;
//   - the command of (rollout, ring, agent) has a derived id (rollout_command_id), so a re-send
//     anyway (a projector rebuilt from scratch, two controllers) is dropped by RMM_COMMANDS'
//     duplicate window, the agent's command store and the commands read model.
//
// Concurrency: one thread; run one controller per deployment.
// Limitations: it acts only on what the projector has folded, so it trails the log by the
// projector's lag (and stops deciding while the projector is down). An agent's platform and arch
// come from its latest inventory: an agent that never sent one has no release to match.
#pragma once

#include <chrono>
#include <pqxx/connection>
#include <string>

#include "admin/tenancy/control_publisher.h"
#include "common/control_plane_events.h"
#include "common/nats_jetstream.h"
#include "common/signing.h"
#include "tools/release/rollout/rollout_plan.h"

namespace rmm::rollout {

// The id of the update_agent command of `agent` in ring `ring` of `rollout`: the same on every
// run (a UUID built from a SHA-256 of the three, version 8).
CommandId rollout_command_id(const RolloutId& rollout, std::uint32_t ring, const AgentId& agent);

// SQL of an agent's platform ("linux", "windows", "macos"; NULL when unknown) from agent_inventory
// alias `inv` (os_name, kernel), matching what rmm-updater names its own platform.
std::string agent_platform_sql();

class RolloutController {
 public:
  // `command_key` signs the update_agent commands (docs/command-signing.md).
  RolloutController(pqxx::connection& db, nats::JetStream& js, tenancy::ControlPublisher& events,
                    const signing::SigningKey& command_key, const Clock& clock)
      : db_(db), js_(js), events_(events), command_key_(command_key), clock_(clock) {}

  // One pass over every created or running rollout; returns how many actions were taken (0 while
  // the projection has not caught up with the controller's own last event).
  Result<int> run_once();

 private:
  // The core projection's checkpoint (0 before its first batch).
  std::uint64_t projected_seq();
  Result<RolloutState> load(const std::string& rollout_id, std::string& version);
  Status start_ring(const RolloutId& rollout, const std::string& version, const Decision& decision);
  void published(const nats::PubAck& ack);

  pqxx::connection& db_;
  nats::JetStream& js_;
  tenancy::ControlPublisher& events_;
  signing::SigningKey command_key_;
  const Clock& clock_;
  bool started_ = false;
  // The RMM_EVENTS sequence the projection must reach before the next decision.
  std::uint64_t wait_for_seq_ = 0;
};

}  // namespace rmm::rollout
