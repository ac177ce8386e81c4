// What is left of a command after the agent died, on Windows. Usually nothing: the command's job
// object kills every process in it when its last handle closes, and only the agent held one, so
// the agent's death killed the tree. What the record still allows is to end the leader should it
// survive (a job the kernel could not assign, a process stuck in the kernel), after checking that
// the pid still names the same process: pids are reused, creation times are not.
#include <algorithm>

#include "agent/platform/process.h"
#include "agent/platform/windows/process_times.h"
#include "agent/platform/windows/unique_handle.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::platform {

Result<LeftoverKill> kill_leftover_group(const ProcessGroupRecord& record,
                                         std::chrono::milliseconds wait) {
  // Pid 0 is the idle process, 4 the system: never a command.
  if (record.group <= 4 || record.group > 0xFFFFFFFFULL) {
    return failf("no process to kill ({})", record.group);
  }
  const auto pid = static_cast<DWORD>(record.group);
  win::UniqueHandle process(::OpenProcess(
      PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid));
  if (!process) {
    const DWORD error = ::GetLastError();
    if (error == ERROR_INVALID_PARAMETER) return LeftoverKill{};  // no such process
    // The agent's own commands run with its token and can be opened by it: a process it may not
    // open (a protected one) took the pid.
    if (error == ERROR_ACCESS_DENIED) return LeftoverKill{};
    return std::unexpected(rmm::win::win32_error(fmt::format("opening process {}", pid), error));
  }
  auto start = win::process_start_time(process.get());
  if (!start) return std::unexpected(start.error());
  if (*start != record.leader_start) return LeftoverKill{};  // the pid names another process now
  if (::WaitForSingleObject(process.get(), 0) == WAIT_OBJECT_0) return LeftoverKill{};
  if (!::TerminateProcess(process.get(), 1)) {
    return std::unexpected(rmm::win::last_error(fmt::format("terminating process {}", pid)));
  }
  const auto ms = static_cast<DWORD>(std::max<std::int64_t>(0, wait.count()));
  const bool ended = ::WaitForSingleObject(process.get(), ms) == WAIT_OBJECT_0;
  return LeftoverKill{.killed = 1, .remaining = ended ? 0U : 1U};
}

}  // namespace rmm::agent::platform
