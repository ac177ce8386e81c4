#include "common/platform/windows/stop_event.h"

#include <fmt/format.h>

#include <mutex>
#include <string>
#include <thread>

#include "common/log.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "common/shutdown.h"

// After windows_api.h: these need <windows.h>'s types.
#include <sddl.h>

namespace rmm::win {
namespace {

std::wstring event_name(std::uint32_t pid, bool global) {
  return std::wstring(global ? L"Global\\" : L"") + L"GuruRMMStop-" + std::to_wstring(pid);
}

// SYSTEM, Administrators and the owner (the creating user): all access; nobody else any.
constexpr wchar_t kEventSddl[] = L"D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GA;;;OW)";

Result<HANDLE> create_event(std::uint32_t pid) {
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(kEventSddl, SDDL_REVISION_1, &sd,
                                                              nullptr)) {
    return std::unexpected(last_error("building the stop event's security descriptor"));
  }
  SECURITY_ATTRIBUTES sa{sizeof(sa), sd, FALSE};
  HANDLE event = ::CreateEventW(&sa, TRUE, FALSE, event_name(pid, true).c_str());
  DWORD error = ::GetLastError();  // ERROR_ALREADY_EXISTS on success with an existing event
  if (event == nullptr && error == ERROR_ACCESS_DENIED) {
    // No SeCreateGlobalPrivilege (an unelevated console run): this session only.
    event = ::CreateEventW(&sa, TRUE, FALSE, event_name(pid, false).c_str());
    error = ::GetLastError();
  }
  ::LocalFree(sd);
  if (event == nullptr) return std::unexpected(win32_error("creating the stop event", error));
  // Still open from an earlier process with this pid (someone kept a handle): its stop request
  // is not ours.
  if (error == ERROR_ALREADY_EXISTS) ::ResetEvent(event);
  return event;
}

}  // namespace

Status listen_for_stop_requests() {
  static std::once_flag once;
  static Status result;
  std::call_once(once, [] {
    auto event = create_event(::GetCurrentProcessId());
    if (!event) {
      result = std::unexpected(event.error());
      return;
    }
    std::thread([handle = *event] {
      if (::WaitForSingleObject(handle, INFINITE) == WAIT_OBJECT_0) {
        log::info("shutdown.stop_event");
        shutdown::request();
      }
    }).detach();
  });
  return result;
}

Status request_stop(std::uint32_t pid) {
  DWORD error = ERROR_FILE_NOT_FOUND;
  for (bool global : {true, false}) {
    HANDLE event = ::OpenEventW(EVENT_MODIFY_STATE, FALSE, event_name(pid, global).c_str());
    if (event == nullptr) {
      // "Access denied" in one namespace says more than "not found" in the other.
      if (const DWORD e = ::GetLastError(); e != ERROR_FILE_NOT_FOUND) error = e;
      continue;
    }
    const BOOL ok = ::SetEvent(event);
    error = ok ? ERROR_SUCCESS : ::GetLastError();
    ::CloseHandle(event);
    if (ok) return {};
  }
  if (error == ERROR_FILE_NOT_FOUND) {
    return fail(Error::Code::kNotFound, fmt::format("process {} has no stop event", pid));
  }
  return std::unexpected(win32_error(fmt::format("stopping process {}", pid), error));
}

}  // namespace rmm::win
