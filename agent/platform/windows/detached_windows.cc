// Starting a helper that outlives the agent on Windows (rmm-updater stops and replaces the agent
// that started it): no console (DETACHED_PROCESS), its own process group so a Ctrl+C of the
// agent's console does not reach it, and out of the agent's job if the agent runs in one
// (CREATE_BREAKAWAY_FROM_JOB; a job that forbids breaking away refuses it, and then the helper is
// started inside it, where it lives as long as that job lets it). Standard input is NUL, output
// and errors are appended to the log file; no other handle of the agent is inherited.
#include "agent/platform/detached.h"
#include "agent/platform/windows/inherit_only.h"
#include "agent/platform/windows/unique_handle.h"
#include "common/platform/windows/command_line.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::platform {

Status spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log_file) {
  if (argv.empty() || !std::filesystem::path(argv[0]).is_absolute()) {
    return fail("spawn_detached needs an absolute program path");
  }
  auto program = rmm::win::to_wide(argv[0]);
  if (!program) return std::unexpected(program.error());
  auto line = rmm::win::build_command_line(argv);
  if (!line) return std::unexpected(line.error());

  SECURITY_ATTRIBUTES inherit{.nLength = sizeof(SECURITY_ATTRIBUTES),
                              .lpSecurityDescriptor = nullptr,
                              .bInheritHandle = TRUE};
  // FILE_APPEND_DATA without FILE_WRITE_DATA: every write goes to the end, as O_APPEND.
  win::UniqueHandle log(::CreateFileW(log_file.wstring().c_str(), FILE_APPEND_DATA | SYNCHRONIZE,
                                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                      &inherit, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr));
  if (!log) {
    return std::unexpected(rmm::win::last_error(fmt::format("opening {}", log_file.string())));
  }
  win::UniqueHandle null_in(::CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                                          &inherit, OPEN_EXISTING, 0, nullptr));
  if (!null_in) return std::unexpected(rmm::win::last_error("opening NUL"));

  win::InheritOnly startup;
  if (auto s = startup.init({null_in.get(), log.get()}); !s) return std::unexpected(s.error());
  auto& si = startup.info().StartupInfo;
  si.dwFlags = STARTF_USESTDHANDLES;
  si.hStdInput = null_in.get();
  si.hStdOutput = log.get();
  si.hStdError = log.get();

  const DWORD base = DETACHED_PROCESS | CREATE_NEW_PROCESS_GROUP | EXTENDED_STARTUPINFO_PRESENT;
  PROCESS_INFORMATION pi{};
  bool started = ::CreateProcessW(program->c_str(), line->data(), nullptr, nullptr, TRUE,
                                  base | CREATE_BREAKAWAY_FROM_JOB, nullptr, nullptr, &si, &pi);
  if (!started && ::GetLastError() == ERROR_ACCESS_DENIED) {
    started = ::CreateProcessW(program->c_str(), line->data(), nullptr, nullptr, TRUE, base,
                               nullptr, nullptr, &si, &pi);
  }
  if (!started) return std::unexpected(rmm::win::last_error(fmt::format("starting {}", argv[0])));
  ::CloseHandle(pi.hThread);
  ::CloseHandle(pi.hProcess);
  return {};
}

Result<std::filesystem::path> current_executable() {
  std::wstring buf(MAX_PATH, L'\0');
  while (true) {
    const DWORD n = ::GetModuleFileNameW(nullptr, buf.data(), static_cast<DWORD>(buf.size()));
    if (n == 0) return std::unexpected(rmm::win::last_error("GetModuleFileNameW"));
    if (n < buf.size()) {
      buf.resize(n);
      return std::filesystem::path(buf);
    }
    buf.resize(buf.size() * 2);  // truncated: the path is longer than the buffer
  }
}

}  // namespace rmm::agent::platform
