// The agent's main loop: announce itself (AgentStarted), then a Heartbeat every interval, until
// shutdown.
//
// Concurrency: run() blocks the calling thread; shutdown arrives through common/shutdown.
// Limitations: the first slice: no outbox, collectors or commands yet (the agent issue).
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace rmm::agent {

struct AgentSettings {
  std::filesystem::path state_dir;
  std::string nats_url;
  std::chrono::milliseconds heartbeat_interval{30'000};
};

// Returns when shutdown is requested; an error when the agent cannot start at all.
Status run_agent(const AgentSettings& settings, const Clock& clock);

}  // namespace rmm::agent
