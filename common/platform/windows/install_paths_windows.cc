#include <string>

#include "common/install_paths.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

// After windows_api.h: SHGetKnownFolderPath.
#include <shlobj.h>

namespace rmm::install_paths {

// The known folder, not the ProgramData environment variable: a service's environment need not
// have it. Computed once; the settings tables keep a view of it.
std::string_view agent_state_dir() {
  static const std::string dir = [] {
    std::string base = "C:\\ProgramData";
    wchar_t* path = nullptr;
    if (::SHGetKnownFolderPath(FOLDERID_ProgramData, 0, nullptr, &path) == S_OK) {
      base = rmm::win::to_utf8(path);
    }
    ::CoTaskMemFree(path);
    return base + "\\GuruRMM";
  }();
  return dir;
}

// GetModuleFileNameW truncates silently when the buffer is too small, so the buffer grows until
// the path fits (long paths reach 32767 characters).
std::string_view agent_updater() {
  static const std::string path = []() -> std::string {
    std::wstring exe(MAX_PATH, L'\0');
    while (exe.size() <= 65536) {
      const DWORD n = ::GetModuleFileNameW(nullptr, exe.data(), static_cast<DWORD>(exe.size()));
      if (n == 0) break;
      if (n < exe.size()) {
        exe.resize(n);
        const auto slash = exe.find_last_of(L"\\/");
        if (slash == std::wstring::npos) break;
        return rmm::win::to_utf8(exe.substr(0, slash + 1)) + "rmm-updater.exe";
      }
      exe.resize(exe.size() * 2);
    }
    return "C:\\Program Files\\GuruRMM\\rmm-updater.exe";
  }();
  return path;
}

}  // namespace rmm::install_paths
