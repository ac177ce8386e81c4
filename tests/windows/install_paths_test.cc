// The Windows defaults of common/install_paths.h: the updater sits beside the running program.
#include "common/install_paths.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace fs = std::filesystem;

TEST_CASE("agent_updater is rmm-updater.exe in the running program's folder") {
  std::wstring exe(32768, L'\0');
  const DWORD n = ::GetModuleFileNameW(nullptr, exe.data(), static_cast<DWORD>(exe.size()));
  REQUIRE(n > 0);
  exe.resize(n);
  const fs::path expected = fs::path(exe).parent_path() / L"rmm-updater.exe";
  const std::string updater(rmm::install_paths::agent_updater());
  CHECK(updater == rmm::win::to_utf8(expected.native()));
  CHECK(updater.ends_with("\\rmm-updater.exe"));
  CHECK(updater.find("/usr/") == std::string::npos);
  // Computed once: the settings tables keep a view of it.
  CHECK(rmm::install_paths::agent_updater().data() == rmm::install_paths::agent_updater().data());
}
