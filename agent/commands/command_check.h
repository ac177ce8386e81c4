// The agent's policy for a received command: bounds on every field, defaults for the ones left 0
// or empty, and the checks that make a command `rejected` before it is queued (a PowerShell or
// cmd command on Linux, a reboot without confirmation, an interpreter that is not installed, ...).
//
// Concurrency: pure functions (find_program reads the file system).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/command_codec.h"

namespace rmm::agent {

struct CommandLimits {
  std::chrono::milliseconds default_timeout{10 * 60 * 1000};
  std::chrono::milliseconds max_timeout{24 * 60 * 60 * 1000};
  std::size_t default_output_cap = 1024 * 1024;  // per stream
  std::size_t max_output_cap = 16 * 1024 * 1024;
  std::size_t max_script_bytes = 1024 * 1024;
  std::size_t max_args = 4096;
  std::size_t max_env = 256;
  std::size_t max_env_bytes = 64 * 1024;
  std::size_t max_settings = 256;
  // Longest time from issue to expiry: every command must expire, within the time RMM_COMMANDS
  // keeps it (max_age 30 days) and the journal remembers its id (CommandStoreOptions::retention),
  // so a replayed command is either a known id or expired.
  std::chrono::hours max_lifetime{24 * 30};
  bool update_hook_installed = false;  // update_agent is rejected without one
};

// A command that passed the checks, with every default applied.
struct PreparedCommand {
  codec::CommandInfo info;
  std::chrono::milliseconds timeout{};
  std::size_t output_cap = 0;
  std::string working_dir;       // absolute
  std::vector<std::string> env;  // "NAME=value": the base environment plus the command's
  std::string interpreter;       // shell commands: the interpreter's absolute path
};

// The reason to reject `info`, else the prepared command. `self` is this agent's id, which the
// command must name; it must carry an issue time and an expiry at most max_lifetime after it.
Result<PreparedCommand> check_command(codec::CommandInfo info, const AgentId& self,
                                      const CommandLimits& limits);

// Whether the command runs a program (shell, exec, powershell, cmd), as opposed to a built-in
// action of the agent.
bool runs_program(const codec::CommandAction& action);

// The value of PATH in `env` ("NAME=value" entries); empty when unset.
std::string path_of(const std::vector<std::string>& env);

}  // namespace rmm::agent
