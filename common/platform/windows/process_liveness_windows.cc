// common/agent_local.h's process checks: a process that has exited keeps its id while a handle
// to it is open, so whether its handle is signalled, not OpenProcess alone, tells if it runs.
#include "common/agent_local.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::local {
namespace {

enum class State { kGone, kExited, kRunning };

State process_state(pid_t pid) {
  if (pid <= 0) return State::kGone;
  HANDLE h = ::OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>(pid));
  if (h == nullptr) {
    // Access denied means it exists (another user's process).
    return ::GetLastError() == ERROR_ACCESS_DENIED ? State::kRunning : State::kGone;
  }
  const DWORD wait = ::WaitForSingleObject(h, 0);
  ::CloseHandle(h);
  return wait == WAIT_OBJECT_0 ? State::kExited : State::kRunning;
}

}  // namespace

bool process_exists(pid_t pid) {
  return process_state(pid) != State::kGone;
}

bool process_alive(pid_t pid) {
  return process_state(pid) == State::kRunning;
}

}  // namespace rmm::local
