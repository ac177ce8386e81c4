// The watchdog's memory of the agent's crashes: exponential backoff between restarts, and crash
// loop detection (N unexpected exits within a window).
//
// Concurrency: one owner thread. Time is passed in (steady clock), so tests need no sleeps.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace rmm::watchdog {

struct CrashPolicy {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{60'000};
  // A run this long resets the backoff (the crash was not part of a streak).
  std::chrono::milliseconds stable_after{60'000};
  std::uint32_t loop_restarts = 5;
  std::chrono::milliseconds loop_window{300'000};
};

class CrashHistory {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  explicit CrashHistory(CrashPolicy policy) : policy_(policy) {}

  // Records an unexpected exit at `now` of a run that lasted `ran_for`; returns how long to wait
  // before the next start.
  std::chrono::milliseconds record_crash(TimePoint now, std::chrono::milliseconds ran_for);
  // True when the crashes within the window reached the threshold.
  bool crash_loop(TimePoint now);
  std::uint32_t crashes_in_window(TimePoint now);
  void reset();

 private:
  void expire(TimePoint now);

  CrashPolicy policy_;
  std::deque<TimePoint> crashes_;
  std::uint32_t streak_ = 0;
};

}  // namespace rmm::watchdog
