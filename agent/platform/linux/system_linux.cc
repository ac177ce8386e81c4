// Machine actions for commands on Linux.
#include <string>

#include "agent/platform/process.h"
#include "common/platform/posix/capture_output.h"

namespace rmm::agent::platform {

std::optional<std::string> powershell_unavailable_reason() {
  return std::string("powershell commands run on Windows agents only (this agent runs on Linux)");
}

std::optional<std::string> cmd_unavailable_reason() {
  return std::string("cmd commands run on Windows agents only (this agent runs on Linux)");
}

Status reboot_machine() {
  using namespace std::chrono_literals;
  for (const auto& argv : {std::vector<std::string>{"/usr/bin/systemctl", "reboot"},
                           std::vector<std::string>{"/bin/systemctl", "reboot"},
                           std::vector<std::string>{"/sbin/shutdown", "-r", "now"},
                           std::vector<std::string>{"/usr/sbin/shutdown", "-r", "now"}}) {
    auto program = find_program(argv[0], "");
    if (!program) continue;
    auto ran = rmm::posix::capture_output(argv, {.timeout = 30s, .max_output = 4096});
    if (ran && ran->exit_code == 0) return {};
    if (!ran) return std::unexpected(ran.error());
    return failf("{} exited with {}: {}", argv[0], ran->exit_code, ran->output);
  }
  return fail(Error::Code::kNotSupported, "neither systemctl nor shutdown is installed");
}

}  // namespace rmm::agent::platform
