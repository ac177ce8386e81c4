// Program lookup, the base environment and the machine actions for commands on Windows.
#include <algorithm>
#include <array>
#include <cwctype>

#include "agent/platform/process.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::platform {
namespace {

std::wstring environment_variable(const wchar_t* name) {
  std::wstring value(256, L'\0');
  while (true) {
    const DWORD n = ::GetEnvironmentVariableW(name, value.data(), static_cast<DWORD>(value.size()));
    if (n == 0) return {};
    if (n < value.size()) {
      value.resize(n);
      return value;
    }
    value.resize(n);  // n counts the terminating NUL when the buffer was too small
  }
}

std::wstring system_directory() {
  wchar_t buf[MAX_PATH];
  const UINT n = ::GetSystemDirectoryW(buf, MAX_PATH);
  return n > 0 && n < MAX_PATH ? std::wstring(buf, n) : std::wstring(L"C:\\Windows\\System32");
}

bool is_file(const std::wstring& path) {
  const DWORD a = ::GetFileAttributesW(path.c_str());
  return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY) == 0;
}

bool is_absolute_wide(std::wstring_view path) {
  const bool drive = path.size() >= 3 && path[1] == L':' && (path[2] == L'\\' || path[2] == L'/');
  return drive || path.starts_with(L"\\\\");
}

std::vector<std::wstring> split(std::wstring_view list) {
  std::vector<std::wstring> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find(L';', start);
    if (end == std::wstring_view::npos) end = list.size();
    std::wstring item(list.substr(start, end - start));
    // PATH entries may be quoted (a directory with a ';' in its name).
    if (item.size() >= 2 && item.front() == L'"' && item.back() == L'"') {
      item = item.substr(1, item.size() - 2);
    }
    if (!item.empty()) out.push_back(std::move(item));
    start = end + 1;
  }
  return out;
}

// The extensions that make a file name runnable, lower case: the agent's PATHEXT, or Windows'
// default when it has none.
std::vector<std::wstring> runnable_extensions() {
  auto value = environment_variable(L"PATHEXT");
  auto list = split(value.empty() ? L".COM;.EXE;.BAT;.CMD" : value);
  for (auto& e : list) {
    std::transform(e.begin(), e.end(), e.begin(), [](wchar_t c) { return std::towlower(c); });
  }
  return list;
}

// `base` as it is when its name has an extension, then with each runnable extension.
std::optional<std::wstring> find_with_extensions(const std::wstring& base,
                                                 const std::vector<std::wstring>& extensions) {
  const auto name_at = base.find_last_of(L"\\/");
  const bool has_extension =
      base.find(L'.', name_at == std::wstring::npos ? 0 : name_at) != std::wstring::npos;
  if (has_extension && is_file(base)) return base;
  for (const auto& e : extensions) {
    if (is_file(base + e)) return base + e;
  }
  return std::nullopt;
}

}  // namespace

Result<std::string> find_program(std::string_view name, std::string_view path_var) {
  if (name.empty()) return fail(Error::Code::kInvalidInput, "no program named");
  auto wide = rmm::win::to_wide(name);
  auto path = rmm::win::to_wide(path_var);
  if (!wide || !path) return fail(Error::Code::kInvalidInput, "program or PATH is not UTF-8");
  const auto extensions = runnable_extensions();
  if (wide->find_first_of(L"\\/:") != std::wstring::npos) {
    if (!is_absolute_wide(*wide)) {
      return fail(Error::Code::kInvalidInput, fmt::format("{}: not an absolute path", name));
    }
    if (auto found = find_with_extensions(*wide, extensions)) return rmm::win::to_utf8(*found);
    return fail(Error::Code::kNotFound, fmt::format("{}: no such program", name));
  }
  for (const auto& dir : split(*path)) {
    if (!is_absolute_wide(dir)) continue;  // a relative PATH entry depends on the directory
    std::wstring base = dir;
    if (base.back() != L'\\' && base.back() != L'/') base += L'\\';
    base += *wide;
    if (auto found = find_with_extensions(base, extensions)) return rmm::win::to_utf8(*found);
  }
  return fail(Error::Code::kNotFound, fmt::format("{} not found in PATH {}", name, path_var));
}

// What Windows programs expect to find (SystemRoot above all: without it Winsock and COM fail),
// taken from the agent's own environment (the service's: the machine's, SYSTEM's profile).
std::vector<std::string> base_environment() {
  static constexpr std::array kNames = {
      L"SystemRoot",
      L"windir",
      L"SystemDrive",
      L"ComSpec",
      L"PATHEXT",
      L"TEMP",
      L"TMP",
      L"USERPROFILE",
      L"USERNAME",
      L"USERDOMAIN",
      L"COMPUTERNAME",
      L"ALLUSERSPROFILE",
      L"ProgramData",
      L"ProgramFiles",
      L"ProgramFiles(x86)",
      L"ProgramW6432",
      L"CommonProgramFiles",
      L"APPDATA",
      L"LOCALAPPDATA",
      L"PUBLIC",
      L"OS",
      L"PROCESSOR_ARCHITECTURE",
      L"NUMBER_OF_PROCESSORS",
      L"PSModulePath",
  };
  std::vector<std::string> env;
  for (const wchar_t* name : kNames) {
    auto value = environment_variable(name);
    if (!value.empty()) env.push_back(rmm::win::to_utf8(std::wstring(name) + L"=" + value));
  }
  auto path = environment_variable(L"PATH");
  if (path.empty()) {
    const auto sys = system_directory();
    path = sys + L";" + sys.substr(0, sys.find_last_of(L'\\')) + L";" + sys + L"\\Wbem;" + sys +
           L"\\WindowsPowerShell\\v1.0\\";
  }
  // Upper case, as the commands' own PATH (and path_of) spell it.
  env.push_back("PATH=" + rmm::win::to_utf8(path));
  return env;
}

std::optional<std::string> powershell_unavailable_reason() {
  const auto path = system_directory() + L"\\WindowsPowerShell\\v1.0\\powershell.exe";
  if (is_file(path)) return std::nullopt;
  return fmt::format("powershell.exe is not installed ({} is missing)", rmm::win::to_utf8(path));
}

std::optional<std::string> cmd_unavailable_reason() {
  const auto path = system_directory() + L"\\cmd.exe";
  if (is_file(path)) return std::nullopt;
  return fmt::format("cmd.exe is not installed ({} is missing)", rmm::win::to_utf8(path));
}

Status reboot_machine() {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, &raw)) {
    return std::unexpected(rmm::win::last_error("OpenProcessToken"));
  }
  TOKEN_PRIVILEGES privileges{};
  privileges.PrivilegeCount = 1;
  privileges.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  const bool found =
      ::LookupPrivilegeValueW(nullptr, SE_SHUTDOWN_NAME, &privileges.Privileges[0].Luid);
  const bool adjusted =
      found && ::AdjustTokenPrivileges(raw, FALSE, &privileges, 0, nullptr, nullptr);
  // AdjustTokenPrivileges succeeds without the privilege and says so only in the last error.
  const DWORD error = ::GetLastError();
  ::CloseHandle(raw);
  if (!adjusted)
    return std::unexpected(rmm::win::win32_error("enabling SeShutdownPrivilege", error));
  if (error == ERROR_NOT_ALL_ASSIGNED) {
    return fail("the agent's account may not shut down the machine (no SeShutdownPrivilege)");
  }
  // No grace period and applications closed without asking: a dialog that waits for a user
  // would leave the command waiting for a reboot that never comes. Logged as planned.
  wchar_t message[] = L"GuruRMM: restart requested by an administrator";
  if (!::InitiateSystemShutdownExW(
          nullptr, message, 0, TRUE, TRUE,
          SHTDN_REASON_MAJOR_OTHER | SHTDN_REASON_MINOR_OTHER | SHTDN_REASON_FLAG_PLANNED)) {
    return std::unexpected(rmm::win::last_error("InitiateSystemShutdownExW"));
  }
  return {};
}

}  // namespace rmm::agent::platform
