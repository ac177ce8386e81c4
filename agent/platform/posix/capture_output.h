// Runs a program (argv, no shell) and captures its standard output, bounded in size and time.
// Used for the few collectors that have no file to read (`systemctl list-units`, `rpm -qa`).
//
// Concurrency: safe from any thread; uses posix_spawn, so no fork of a large address space.
// Limitations: stderr is discarded; the program runs in its own process group, which is killed
// (SIGKILL) at the deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"

namespace rmm::agent::posix {

struct CaptureResult {
  int exit_code = -1;      // -1 when killed by a signal
  std::string output;      // at most max_output bytes of stdout
  bool truncated = false;  // more output was discarded
};

// `argv[0]` must be an absolute path. The environment is LC_ALL=C and a fixed PATH, so output
// parses the same on every host. Times out with Error::Code::kTimeout.
Result<CaptureResult> capture_output(const std::vector<std::string>& argv,
                                     std::chrono::milliseconds timeout, std::size_t max_output);

}  // namespace rmm::agent::posix
