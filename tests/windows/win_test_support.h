// Small helpers shared by the Windows tests: a temp directory, and the paths of programs the tests
// start (the system's cmd.exe, and rmm-test-stop-helper.exe built next to the test program).
#pragma once

#include <filesystem>
#include <string>

namespace rmm::wintest {

// A fresh directory under %TEMP%, removed with everything in it at the end of the scope.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::filesystem::path cmd_exe();
// True under Wine (ntdll exports wine_get_version): for the few checks Wine cannot answer.
bool under_wine();
std::filesystem::path stop_helper_exe();

}  // namespace rmm::wintest
