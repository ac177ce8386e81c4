// rmm::service::run on Windows: the service control manager's protocol around a program's main.
#include <fcntl.h>
#include <io.h>

#include <filesystem>
#include <mutex>
#include <string>

#include "common/install_paths.h"
#include "common/log.h"
#include "common/platform/windows/stop_event.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "common/secure_dir.h"
#include "common/service_host.h"
#include "common/shutdown.h"

// After windows_api.h: the process snapshot.
#include <tlhelp32.h>

namespace rmm::service {
namespace {

// How long a stop may take before the SCM considers the service hung: the watchdog gives the
// agent 30 s (its stop-grace) before it kills it.
constexpr DWORD kStopWaitHintMs = 45'000;

// The one service this process runs. The SCM calls service_main and on_control without a
// context pointer for service_main, so the state is process-wide.
struct Service {
  std::wstring name;
  MainFunction main_fn = nullptr;
  int argc = 0;
  char** argv = nullptr;
  int exit_code = 0;

  std::mutex mutex;  // status is set from service_main's thread and the control handler's
  SERVICE_STATUS_HANDLE handle = nullptr;
  SERVICE_STATUS status{};
};

Service g_service;

void set_state(DWORD state, DWORD wait_hint = 0) {
  std::lock_guard lock(g_service.mutex);
  SERVICE_STATUS& s = g_service.status;
  s.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  s.dwCurrentState = state;
  s.dwControlsAccepted =
      state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  s.dwWaitHint = wait_hint;
  s.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : s.dwCheckPoint + 1;
  if (state == SERVICE_STOPPED && g_service.exit_code != 0) {
    // A non-zero exit is a failure: the SCM's recovery actions restart the service.
    s.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
    s.dwServiceSpecificExitCode = static_cast<DWORD>(g_service.exit_code);
  }
  ::SetServiceStatus(g_service.handle, &s);
}

DWORD WINAPI on_control(DWORD control, DWORD, void*, void*) {
  switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      set_state(SERVICE_STOP_PENDING, kStopWaitHintMs);
      log::info("service.stop_requested",
                {{"control", control == SERVICE_CONTROL_STOP ? "stop" : "shutdown"}});
      shutdown::request();
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
      return NO_ERROR;
    default:
      return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

// Standard output and error of a service are not connected to anything; its log goes to a file
// in the default state directory instead (appended, so restarts keep earlier lines).
void redirect_output_to_log() {
  const std::filesystem::path dir =
      rmm::win::to_wide(install_paths::agent_state_dir()).value_or(L"");
  // The log may name hosts and users: it gets the state directory's administrators-only ACL.
  if (!files::secure_state_dir(dir)) return;
  const auto file = dir / (g_service.name + L".log");
  SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};  // the watchdog's agent inherits it
  HANDLE log = ::CreateFileW(file.c_str(), FILE_APPEND_DATA | SYNCHRONIZE,
                             FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa,
                             OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (log == INVALID_HANDLE_VALUE) return;  // nowhere to say so: the service runs without a log
  ::SetStdHandle(STD_OUTPUT_HANDLE, log);
  ::SetStdHandle(STD_ERROR_HANDLE, log);
  // The C runtime's descriptors 1 and 2 (printf, fprintf(stderr)) too; each owns its duplicate.
  for (int fd : {1, 2}) {
    HANDLE dup = nullptr;
    if (!::DuplicateHandle(::GetCurrentProcess(), log, ::GetCurrentProcess(), &dup, 0, FALSE,
                           DUPLICATE_SAME_ACCESS)) {
      continue;
    }
    const int crt = ::_open_osfhandle(reinterpret_cast<intptr_t>(dup), _O_APPEND | _O_BINARY);
    if (crt < 0) {
      ::CloseHandle(dup);
      continue;
    }
    ::_dup2(crt, fd);
    ::_close(crt);
  }
}

// True when services.exe, the service control manager, started this process. Only then is the
// dispatcher tried: called from any other process (the agent the watchdog service starts) it may
// connect to the pipe the SCM opened for the service being started and wait on it (Wine blocks
// there) instead of failing with ERROR_FAILED_SERVICE_CONTROLLER_CONNECT.
bool started_by_scm() {
  HANDLE snapshot = ::CreateToolhelp32Snapshot(TH32CS_SNAPPROCESS, 0);
  if (snapshot == INVALID_HANDLE_VALUE) return true;  // unknown: let the dispatcher decide
  const DWORD self = ::GetCurrentProcessId();
  DWORD parent = 0;
  std::wstring parent_name;
  PROCESSENTRY32W entry{};
  entry.dwSize = sizeof(entry);
  for (int pass = 0; pass < 2; ++pass) {
    for (BOOL ok = ::Process32FirstW(snapshot, &entry); ok;
         ok = ::Process32NextW(snapshot, &entry)) {
      if (pass == 0 && entry.th32ProcessID == self) parent = entry.th32ParentProcessID;
      if (pass == 1 && entry.th32ProcessID == parent) parent_name = entry.szExeFile;
    }
  }
  ::CloseHandle(snapshot);
  return ::lstrcmpiW(parent_name.c_str(), L"services.exe") == 0;
}

void WINAPI service_main(DWORD, LPWSTR*) {
  g_service.handle = ::RegisterServiceCtrlHandlerExW(g_service.name.c_str(), on_control, nullptr);
  if (g_service.handle == nullptr) {
    g_service.exit_code = 1;
    return;
  }
  redirect_output_to_log();
  // The program has no separate "ready" point to report: it runs from here on.
  set_state(SERVICE_RUNNING);
  if (auto st = rmm::win::listen_for_stop_requests(); !st) {
    log::warn("service.stop_event_failed", {{"error", st.error().message}});
  }
  // The service's own arguments (from a "start" request) are ignored: the configuration is the
  // command line the service was installed with, which this process got as argv.
  g_service.exit_code = g_service.main_fn(g_service.argc, g_service.argv);
  log::info("service.stopped", {{"exit_code", g_service.exit_code}});
  set_state(SERVICE_STOPPED);
}

}  // namespace

int run(std::string_view name, MainFunction main_fn, int argc, char** argv) {
  auto wide = rmm::win::to_wide(name);
  if (!wide) return main_fn(argc, argv);
  g_service.name = std::move(*wide);
  g_service.main_fn = main_fn;
  g_service.argc = argc;
  g_service.argv = argv;
  if (started_by_scm()) {
    SERVICE_TABLE_ENTRYW table[] = {{g_service.name.data(), service_main}, {nullptr, nullptr}};
    if (::StartServiceCtrlDispatcherW(table)) return g_service.exit_code;
    if (::GetLastError() != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      log::warn("service.dispatcher_failed",
                {{"error", rmm::win::last_error("StartServiceCtrlDispatcherW").message}});
    }
  }
  // Not a service (a console, a test, or the watchdog starting the agent): a program.
  if (auto st = rmm::win::listen_for_stop_requests(); !st) {
    log::warn("service.stop_event_failed", {{"error", st.error().message}});
  }
  return main_fn(argc, argv);
}

}  // namespace rmm::service
