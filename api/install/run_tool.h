// Runs a helper program of rmm-api (msitools' msibuild) as a child process: no shell, bounded in
// time and in the output kept.
//
// Concurrency: safe from any thread; posix_spawn, so the API's large address space is not forked.
// Limitations: POSIX only (rmm-api runs on Linux); the arguments are visible to local users in
// /proc/<pid>/cmdline while the program runs.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "common/result.h"

namespace rmm::api::install {

struct ToolResult {
  int exit_code = -1;  // -1 when a signal ended it
  std::string output;  // standard output and error together, at most max_output bytes
};

// `argv[0]` must be an absolute path. Standard input is /dev/null, descriptors above 2 are
// closed, signals have their default dispositions and none is blocked, the environment is only
// LC_ALL=C. At the deadline the program's process group is killed: kTimeout. A program that
// cannot be started: kNotFound.
Result<ToolResult> run_tool(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                            std::size_t max_output = 16 << 10);

}  // namespace rmm::api::install
