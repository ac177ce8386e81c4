#include "common/log.h"
#include "common/platform/windows/stop_event.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "updater/platform/agent_process.h"

namespace rmm::updater::platform {

pid_t own_pid() {
  return static_cast<pid_t>(::GetCurrentProcessId());
}

// An agent that does not listen (yet) is left to the caller's grace period and force_stop().
void request_stop(pid_t pid) {
  if (auto st = rmm::win::request_stop(static_cast<std::uint32_t>(pid)); !st) {
    log::warn("update.stop_request_failed", {{"pid", pid}, {"error", st.error().message}});
  }
}

void force_stop(pid_t pid) {
  HANDLE h = ::OpenProcess(PROCESS_TERMINATE, FALSE, static_cast<DWORD>(pid));
  if (h == nullptr) {
    log::warn("update.kill_failed",
              {{"pid", pid}, {"error", rmm::win::last_error("OpenProcess").message}});
    return;
  }
  if (!::TerminateProcess(h, ERROR_PROCESS_ABORTED)) {
    log::warn("update.kill_failed",
              {{"pid", pid}, {"error", rmm::win::last_error("TerminateProcess").message}});
  }
  ::CloseHandle(h);
}

}  // namespace rmm::updater::platform
