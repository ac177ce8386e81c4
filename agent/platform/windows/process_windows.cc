// Commands on Windows: not implemented yet. Every entry point says so explicitly.
#include "agent/platform/process.h"

namespace rmm::agent::platform {

// TODO(platform): CreateProcessW in a job object (the Windows process group), pipes for
// stdout/stderr, CREATE_NO_WINDOW, an environment block.
Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const SpawnSpec&) {
  return fail(Error::Code::kNotSupported,
              "running commands is not supported on this platform yet (Windows)");
}

// TODO(platform): a job object per command with JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE (its
// processes die with the agent), named in the command journal so a restart can terminate it.
Result<LeftoverKill> kill_leftover_group(const ProcessGroupRecord&, std::chrono::milliseconds) {
  return fail(Error::Code::kNotSupported,
              "killing a command's leftover processes is not supported on this platform (Windows)");
}

// TODO(platform): SearchPathW.
Result<std::string> find_program(std::string_view, std::string_view) {
  return fail(Error::Code::kNotSupported, "program lookup is not supported on Windows yet");
}

std::vector<std::string> base_environment() {
  return {};
}

// TODO(platform): powershell.exe -NoProfile -NonInteractive -File <script>.
std::optional<std::string> powershell_unavailable_reason() {
  return std::string("powershell commands are not implemented on Windows yet");
}

// TODO(platform): InitiateSystemShutdownExW.
Status reboot_machine() {
  return fail(Error::Code::kNotSupported, "reboot is not supported on this platform (Windows)");
}

}  // namespace rmm::agent::platform
