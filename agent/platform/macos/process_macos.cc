// Commands on macOS: not implemented yet. Every entry point says so explicitly.
#include "agent/platform/process.h"

namespace rmm::agent::platform {

// TODO(platform): as agent/platform/linux/child_process_linux.cc, without pipe2 and /proc.
Result<std::unique_ptr<ChildProcess>> ChildProcess::spawn(const SpawnSpec&) {
  return fail(Error::Code::kNotSupported,
              "running commands is not supported on this platform yet (macOS)");
}

// TODO(platform): as agent/platform/linux/process_group_linux.cc, with proc_pidinfo
// (PROC_PIDTBSDINFO: pgid, start time) instead of /proc.
Result<LeftoverKill> kill_leftover_group(const ProcessGroupRecord&, std::chrono::milliseconds) {
  return fail(Error::Code::kNotSupported,
              "killing a command's leftover processes is not supported on this platform (macOS)");
}

Result<std::string> find_program(std::string_view, std::string_view) {
  return fail(Error::Code::kNotSupported, "program lookup is not supported on macOS yet");
}

std::vector<std::string> base_environment() {
  return {};
}

std::optional<std::string> powershell_unavailable_reason() {
  return std::string("powershell commands run on Windows agents only (this agent runs on macOS)");
}

std::optional<std::string> cmd_unavailable_reason() {
  return std::string("cmd commands run on Windows agents only (this agent runs on macOS)");
}

// TODO(platform): `shutdown -r now`.
Status reboot_machine() {
  return fail(Error::Code::kNotSupported, "reboot is not supported on this platform (macOS)");
}

// TODO(platform): proc_name() check, then kill(2).
Result<std::string> kill_process(std::uint32_t, std::string_view, std::chrono::milliseconds) {
  return fail(Error::Code::kNotSupported,
              "stopping a process is not supported on this platform (macOS)");
}

}  // namespace rmm::agent::platform
