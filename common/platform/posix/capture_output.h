// Runs a program (argv, no shell) as a child and captures its output, bounded in size and time.
// Used where a program is the only source (the agent's `systemctl list-units` and `rpm -qa`,
// rmm-api's msibuild).
//
// Concurrency: safe from any thread; posix_spawn, so a large address space is never forked.
// Limitations: POSIX only; the arguments are visible to local users in /proc/<pid>/cmdline while
// the program runs; the program runs in its own process group, killed (SIGKILL) at the deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"

namespace rmm::posix {

struct CaptureOptions {
  std::chrono::milliseconds timeout{30'000};
  std::size_t max_output = 16 << 10;  // bytes kept; the rest is read and dropped
  bool with_stderr = false;           // false: stderr goes to /dev/null
  // The whole environment, "NAME=value" each: by default the C locale, so output parses the same
  // on every host, a fixed PATH, and no colours (systemctl).
  std::vector<std::string> env = {"LC_ALL=C", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                                  "SYSTEMD_COLORS=0"};
};

struct CaptureResult {
  int exit_code = -1;      // -1 when a signal ended it
  std::string output;      // stdout (and stderr, with_stderr), at most max_output bytes
  bool truncated = false;  // more output was dropped
};

// `argv[0]` must be an absolute path (kInvalidInput). Standard input is /dev/null, descriptors
// above 2 are closed, signals have their default dispositions and none is blocked (callers
// block SIGTERM for sigwait). kNotFound when the program cannot be started, kTimeout when it has
// not exited by the deadline.
Result<CaptureResult> capture_output(const std::vector<std::string>& argv,
                                     const CaptureOptions& options);

}  // namespace rmm::posix
