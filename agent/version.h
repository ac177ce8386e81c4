#pragma once

#include <string_view>

namespace rmm::agent {

// Set by the build (RMM_AGENT_VERSION), so two builds can carry different versions.
inline constexpr std::string_view kAgentVersion = RMM_AGENT_VERSION_STRING;

}  // namespace rmm::agent
