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

}  // namespace rmm::install_paths
