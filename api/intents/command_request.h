// The body of POST /api/v1/commands, checked: who it targets (a list of agents, a site or a
// client: exactly one) and what to run. The agent checks again on arrival (its own limits,
// agent/commands/command_check.h); this is the API's first line, so a bad request is a 400 now
// rather than a "rejected" command later.
//
// Concurrency: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/command_codec.h"
#include "common/control_events.h"
#include "common/result.h"

namespace rmm::api::intents {

inline constexpr std::size_t kMaxCommandTargets = 1000;
inline constexpr std::size_t kMaxScriptBytes = 512 * 1024;
inline constexpr std::size_t kMaxArgs = 256;
inline constexpr std::size_t kMaxArgBytes = 8192;
inline constexpr std::int64_t kMaxTimeoutS = 24 * 3600;
inline constexpr std::int64_t kMaxExpiresInS = 7 * 24 * 3600;
inline constexpr std::int64_t kDefaultExpiresInS = 24 * 3600;
inline constexpr std::size_t kMaxSummaryBytes = 200;

struct CommandRequest {
  // Exactly one of these is set.
  std::vector<AgentId> agents;
  std::optional<SiteId> site;
  std::optional<ClientId> client;

  codec::CommandAction action;
  std::uint64_t timeout_ms = 0;  // 0: the agent's default
  std::chrono::seconds expires_in{kDefaultExpiresInS};
  std::string summary;  // one line, at most kMaxSummaryBytes
};

// kInvalidInput with a client-facing message on anything malformed.
Result<CommandRequest> parse_command_request(std::string_view body);

// The CommandInfo for one target agent. `issuer` is the acting user ("user:<id>").
codec::CommandInfo command_for(const CommandRequest& request, const CommandId& id,
                               const AgentId& agent, std::string_view issuer, UnixNanos now);

// A bounded one-line description: the script's first line, the argv joined, "registry set
// HKLM\Software\X\Name" (operation and target, never the data), or the kind.
std::string command_summary(const codec::CommandAction& action);

}  // namespace rmm::api::intents
