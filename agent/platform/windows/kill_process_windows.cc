// kill_process on Windows: the process handle pins it, its image's file name is checked
// (case-insensitive, as the Toolhelp list names it), then TerminateProcess. There is no polite
// stop for an arbitrary process (no console to send Ctrl+C to): the grace period is unused.
#include <fmt/format.h>

#include <algorithm>
#include <cwctype>
#include <iterator>
#include <string>

#include "agent/platform/process.h"
#include "agent/platform/windows/unique_handle.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::platform {
namespace {

std::wstring lower(std::wstring s) {
  std::transform(s.begin(), s.end(), s.begin(), [](wchar_t c) { return std::towlower(c); });
  return s;
}

}  // namespace

Result<std::string> kill_process(std::uint32_t pid, std::string_view name,
                                 std::chrono::milliseconds) {
  if (pid <= 4) return fail(Error::Code::kInvalidInput, "the system processes are never stopped");
  if (pid == ::GetCurrentProcessId()) {
    return fail(Error::Code::kInvalidInput, "the agent does not stop itself");
  }
  win::UniqueHandle process(
      ::OpenProcess(PROCESS_TERMINATE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process) {
    const DWORD error = ::GetLastError();
    if (error == ERROR_INVALID_PARAMETER) {
      return fail(Error::Code::kNotFound, fmt::format("no process {}", pid));
    }
    return std::unexpected(rmm::win::win32_error(fmt::format("OpenProcess({})", pid), error));
  }
  DWORD code = 0;
  if (::GetExitCodeProcess(process.get(), &code) && code != STILL_ACTIVE) {
    return fail(Error::Code::kNotFound, fmt::format("no process {}", pid));
  }
  wchar_t path[32768];
  DWORD size = static_cast<DWORD>(std::size(path));
  if (!::QueryFullProcessImageNameW(process.get(), 0, path, &size)) {
    return std::unexpected(rmm::win::last_error("QueryFullProcessImageNameW"));
  }
  std::wstring image(path, size);
  if (const auto slash = image.find_last_of(L"\\/"); slash != std::wstring::npos) {
    image.erase(0, slash + 1);
  }
  auto wanted = rmm::win::to_wide(name);
  if (!wanted || lower(*wanted) != lower(image)) {
    return fail(Error::Code::kConflict, fmt::format("process {} is now '{}', not '{}': left alone",
                                                    pid, rmm::win::to_utf8(image), name));
  }
  if (!::TerminateProcess(process.get(), 1)) {
    return std::unexpected(rmm::win::last_error("TerminateProcess"));
  }
  return fmt::format("process {} ({}) stopped (TerminateProcess)\n", pid, name);
}

}  // namespace rmm::agent::platform
