// The operating-system side of supervising the agent: start it, notice its exit, stop it, and
// read its memory and CPU use. Implemented per platform (CMake picks the file).
//
// Windows (platform/windows): the agent runs in a job object that dies with the watchdog; the
// polite stop is the agent's stop event (common/platform/windows/stop_event.h), the forced one
// TerminateProcess; ExitInfo::signal is always 0 there.
//
// Limitations: macOS returns kNotSupported from make_process_control() (TODO(platform): launchd).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace rmm::watchdog {

struct ExitInfo {
  int exit_code = -1;  // -1 when a signal ended it
  int signal = 0;
};

struct ProcessUsage {
  std::uint64_t rss_bytes = 0;
  std::chrono::nanoseconds cpu_time{0};  // user + system, since the process started
};

class ProcessControl {
 public:
  virtual ~ProcessControl() = default;
  // argv[0] is the program's path; output appended to `log_file` (empty: inherited).
  virtual Result<pid_t> start(const std::vector<std::string>& argv,
                              const std::filesystem::path& log_file) = 0;
  // Reaps the child if it exited.
  virtual std::optional<ExitInfo> poll_exit(pid_t pid) = 0;
  virtual void terminate(pid_t pid) = 0;  // polite (SIGTERM)
  virtual void kill(pid_t pid) = 0;       // forced (SIGKILL)
  virtual Result<ProcessUsage> usage(pid_t pid) = 0;
};

Result<std::unique_ptr<ProcessControl>> make_process_control();

}  // namespace rmm::watchdog
