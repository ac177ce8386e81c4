// The agent's main loop: announce itself (AgentStarted), then heartbeats, metrics and inventory on
// their intervals, every event through the durable outbox, until shutdown.
//
// Concurrency: run_agent() blocks the calling thread and owns the schedule; the outbox publisher
// drains on its own thread. Shutdown arrives through common/shutdown.
// Configuration: intervals and disabled collectors can change live through apply_config; the
// applied values persist in the state dir and take precedence over flags, environment and
// defaults at the next start (the server's word is the effective policy).
// Limitations: inventory is collected on the main loop (it takes up to a few seconds every six
// hours, delaying at most one heartbeat by that much).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/clock.h"
#include "common/nats_tls.h"
#include "common/result.h"

namespace rmm::agent {

struct AgentSettings {
  std::filesystem::path state_dir;
  std::string nats_url;
  nats::TlsClientOptions nats_tls;  // resolved: the CA to pin (common/agent_local.h) and the name
  std::string nats_js_domain;       // where RMM_COMMANDS is: "" the server connected to, or "hub"
  std::chrono::milliseconds heartbeat_interval{30'000};
  std::chrono::milliseconds metrics_interval{60'000};
  std::chrono::milliseconds inventory_interval{6 * 3'600'000};
  std::uint64_t outbox_budget_bytes = 256ull * 1024 * 1024;
  int publish_window = 1024;
  std::string disabled_collectors;  // comma-separated
  int command_concurrency = 4;
  std::chrono::milliseconds command_timeout{600'000};
  std::size_t command_output_cap = 1024 * 1024;
  std::filesystem::path updater;  // rmm-updater; empty: update_agent is rejected
};

// Returns when shutdown is requested; an error when the agent cannot start at all.
Status run_agent(const AgentSettings& settings, const Clock& clock);

}  // namespace rmm::agent
