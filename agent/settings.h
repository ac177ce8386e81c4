// The agent's settings, declared once: flags, RMM_<NAME> variables, --help, and the subset that
// `apply_config` may change while the agent runs.
#pragma once

#include <span>
#include <string_view>

#include "common/config.h"

namespace rmm::agent {

std::span<const config::Setting> agent_settings();

// What apply_config may set. Everything else (identity, broker, state dir, outbox size) is local
// to the machine and refused.
inline constexpr std::string_view kLiveSettings[] = {"heartbeat-interval", "metrics-interval",
                                                     "inventory-interval", "disabled-collectors"};

}  // namespace rmm::agent
