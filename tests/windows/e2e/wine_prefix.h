// A throwaway Wine prefix for Linux tests that run Windows programs of build-windows/ under
// wine64, with the environment tests/windows/run_under_wine.sh gives the Windows unit tests
// (WINEDEBUG=-all, no Mono or Gecko prompts). Every Wine process writes to a log file, never to
// the test's own stdout or stderr: a wineserver that outlives its program would hold ctest's pipe.
// The destructor ends everything in the prefix (`wineserver -k`) before the directory goes.
//
// Concurrency: one owner thread.
// Limitations: the first Wine command creates the prefix (20-60 s); every wait is bounded and a
// command past its limit is killed.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/fixtures/process.h"
#include "tests/fixtures/shell.h"
#include "tests/fixtures/temp_dir.h"

namespace rmm::test {

class WinePrefix {
 public:
  explicit WinePrefix(std::filesystem::path wine64);
  ~WinePrefix();
  WinePrefix(const WinePrefix&) = delete;
  WinePrefix& operator=(const WinePrefix&) = delete;

  // Runs `wine64 args...` to its end (at most `limit`); its output is the log's.
  CommandResult run(const std::vector<std::string>& args,
                    std::chrono::seconds limit = std::chrono::seconds(300));
  // Starts `wine64 args...`, its output appended to `log_file`.
  Process start(const std::vector<std::string>& args, const std::filesystem::path& log_file);
  // `wine64 reg import` of a .reg file made of `body` (the lines after the header).
  void import_registry(const std::string& body);

  // The Linux pids of this prefix's processes (WINEPREFIX in their environment) whose command
  // line holds `needle` (any case): what runs in the prefix, seen from outside Wine. A program
  // started by cmd.exe shows its command line as typed ("ping -n 3 host"), not its path.
  std::vector<int> processes(std::string_view needle) const;

  // The Linux path of C:\ in the prefix.
  std::filesystem::path drive_c() const { return dir_ / "prefix" / "drive_c"; }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  std::vector<std::pair<std::string, std::string>> env() const;

  std::filesystem::path wine64_;
  TempDir dir_{"wine"};
  int runs_ = 0;
};

// A Linux path as Wine's drive Z: names it (Z:\tmp\...).
std::string windows_path(const std::filesystem::path& path);

// `text` as a REG_SZ value of import_registry's file, as hex(1): its bytes and a terminating
// null, so line ends and quotes need no escaping. ASCII text only.
std::string reg_sz_hex(std::string_view text);

}  // namespace rmm::test
