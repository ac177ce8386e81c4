#include "watchdog/crash_history.h"

#include <algorithm>

namespace rmm::watchdog {

std::chrono::milliseconds CrashHistory::record_crash(TimePoint now,
                                                     std::chrono::milliseconds ran_for) {
  if (ran_for >= policy_.stable_after) streak_ = 0;
  crashes_.push_back(now);
  expire(now);
  // 1x, 2x, 4x ... the initial backoff, capped; the shift is bounded so it cannot overflow.
  auto factor = std::int64_t{1} << std::min<std::uint32_t>(streak_, 20);
  ++streak_;
  auto delay = policy_.initial_backoff * factor;
  return std::min<std::chrono::milliseconds>(delay, policy_.max_backoff);
}

bool CrashHistory::crash_loop(TimePoint now) {
  return crashes_in_window(now) >= policy_.loop_restarts;
}

std::uint32_t CrashHistory::crashes_in_window(TimePoint now) {
  expire(now);
  return static_cast<std::uint32_t>(crashes_.size());
}

void CrashHistory::reset() {
  crashes_.clear();
  streak_ = 0;
}

void CrashHistory::expire(TimePoint now) {
  while (!crashes_.empty() && now - crashes_.front() > policy_.loop_window) crashes_.pop_front();
}

}  // namespace rmm::watchdog
