// rmm-watchdog's loop: starts the agent, restarts it when it exits unexpectedly or hangs (its
// health file goes stale), with exponential backoff; after N restarts in M minutes it stops
// thrashing for a pause and raises a WatchdogAlert (CrashLoop). It alerts, without restarting,
// when the agent passes its memory or CPU limit. During an update it obeys the updater's lock
// (common/agent_local.h): phase "stop" keeps the agent stopped without counting a crash; a new
// "start" phase starts the new binary with a fresh history. Alerts go through the spool.
//
// Concurrency: run() blocks the calling thread until shutdown; one Supervisor per state dir.
// Limitations: a crash loop outside an update is alerted, not rolled back (the updater owns
// rollbacks, within its health window); the alerts reach the broker once an agent runs long
// enough to drain the spool.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "events_generated.h"
#include "watchdog/crash_history.h"
#include "watchdog/platform/process_control.h"

namespace rmm::watchdog {

struct SupervisorOptions {
  std::filesystem::path state_dir;
  std::vector<std::string> agent_argv;  // [0]: the agent binary
  std::filesystem::path agent_log;      // empty: inherit
  CrashPolicy crash;
  std::chrono::milliseconds crash_loop_pause{600'000};
  std::chrono::milliseconds liveness_timeout{60'000};
  std::chrono::milliseconds stop_grace{30'000};
  std::uint64_t memory_limit_bytes = 0;  // 0: no limit
  double cpu_limit_percent = 0;          // 0: no limit; of one core
  std::chrono::milliseconds usage_interval{10'000};
  std::chrono::milliseconds alert_repeat{600'000};  // the same limit alert at most this often
  std::chrono::milliseconds tick{100};
};

class Supervisor {
 public:
  Supervisor(SupervisorOptions options, ProcessControl& processes, const Clock& clock);
  // Until shutdown::requested(); stops the agent before returning.
  Status run();

 private:
  using TimePoint = std::chrono::steady_clock::time_point;

  void tick();
  void on_exit(const ExitInfo& exit, TimePoint now);
  void start_agent(TimePoint now);
  void check_hang(TimePoint now);
  void check_usage(TimePoint now);
  void alert(schema::WatchdogAlertKind kind, std::string detail, std::uint64_t rss = 0,
             float cpu = 0);
  void stop_agent();

  SupervisorOptions options_;
  ProcessControl& processes_;
  const Clock& clock_;
  CrashHistory history_;
  std::optional<pid_t> child_;
  TimePoint started_at_{};
  TimePoint next_start_{};
  std::optional<TimePoint> paused_until_;
  std::optional<TimePoint> stop_sent_at_;
  bool killed_for_hang_ = false;
  std::uint64_t update_cycle_ = 0;  // of the last update lock seen in phase "start"
  std::optional<std::pair<TimePoint, std::chrono::nanoseconds>> last_usage_;
  TimePoint next_usage_{};
  std::optional<TimePoint> last_memory_alert_, last_cpu_alert_;
};

}  // namespace rmm::watchdog
