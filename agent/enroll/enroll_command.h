// The `rmm-agent enroll` subcommand: settings, machine facts, enroll(), and what it prints.
#pragma once

namespace rmm::agent::enroll {

// argv[0] is "enroll". Exit codes: 0 enrolled (prints the agent id), 1 refused or failed,
// 2 bad usage.
int run_enroll_command(int argc, const char* const* argv);

}  // namespace rmm::agent::enroll
