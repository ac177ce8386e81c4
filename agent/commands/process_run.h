// Drives one started process to its end: reads stdout and stderr separately, keeps at most `cap`
// bytes of each (later bytes are counted and discarded; the chunk where the cap is reached, or an
// empty one after it, carries the truncation marker), sends CommandOutput chunks while it runs
// (every chunk_bytes or chunk_interval, whichever comes first), and stops the whole process group
// at the timeout, on cancel or at agent shutdown: SIGTERM, kill_grace, then SIGKILL.
//
// After the process exits by itself, output is read for at most drain_after_exit more: a
// background child that inherited the pipes does not hold the command open (it keeps running, in
// the command's process group, with its output discarded).
//
// Concurrency: runs on the calling (worker) thread; RunControl may be set from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>

#include "agent/commands/lifecycle.h"
#include "agent/platform/process.h"

namespace rmm::agent {

enum class StopRequest : int { kNone = 0, kCancel = 1, kShutdown = 2 };

// Set by other threads to stop a running command.
struct RunControl {
  std::atomic<int> stop{0};  // a StopRequest
  std::mutex mutex;
  CommandId cancelled_by;  // under mutex, set before stop = kCancel
};

struct OutputOptions {
  std::size_t chunk_bytes = 64 * 1024;
  std::chrono::milliseconds chunk_interval{250};
  std::chrono::milliseconds kill_grace{5000};
  std::chrono::milliseconds drain_after_exit{1000};
  std::chrono::milliseconds poll_slice{50};  // longest wait between deadline and cancel checks
};

enum class RunEnd { kCompleted, kTimedOut, kCancelled, kInterrupted };

struct RunResult {
  RunEnd end = RunEnd::kCompleted;
  platform::ExitStatus exit;
  bool killed = false;  // SIGKILL was needed
  std::chrono::milliseconds duration{};
  std::uint64_t bytes[2] = {0, 0};  // written by the process, per stream (stdout, stderr)
  bool truncated[2] = {false, false};
};

// Sends output that is already complete (a built-in action's) as chunks, with the same caps and
// markers as a process's; fills result.bytes and result.truncated.
void send_output(const CommandId& id, std::string_view out, std::string_view err, std::size_t cap,
                 std::size_t chunk_bytes, Lifecycle& lifecycle, RunResult& result);

RunResult run_process(platform::ChildProcess& child, const CommandId& id,
                      std::chrono::milliseconds timeout, std::size_t cap,
                      const OutputOptions& options, RunControl& control, Lifecycle& lifecycle,
                      const Clock& clock);

}  // namespace rmm::agent
