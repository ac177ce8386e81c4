#include "watchdog/crash_history.h"

#include <doctest/doctest.h>

using namespace rmm::watchdog;
using namespace std::chrono_literals;

TEST_CASE("crash history: exponential backoff, capped, reset by a stable run") {
  CrashHistory h({.initial_backoff = 1s,
                  .max_backoff = 5s,
                  .stable_after = 60s,
                  .loop_restarts = 100,
                  .loop_window = 300s});
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  CHECK(h.record_crash(t, 1s) == 1s);
  CHECK(h.record_crash(t + 2s, 1s) == 2s);
  CHECK(h.record_crash(t + 5s, 1s) == 4s);
  CHECK(h.record_crash(t + 10s, 1s) == 5s);
  CHECK(h.record_crash(t + 20s, 1s) == 5s);
  CHECK(h.record_crash(t + 200s, 120s) == 1s);  // it ran for two minutes: a new streak
}

TEST_CASE("crash history: N crashes within the window make a crash loop; older ones expire") {
  CrashHistory h({.initial_backoff = 1s,
                  .max_backoff = 5s,
                  .stable_after = 60s,
                  .loop_restarts = 3,
                  .loop_window = 60s});
  auto t = std::chrono::steady_clock::time_point{} + 1h;
  (void)h.record_crash(t, 1s);
  (void)h.record_crash(t + 10s, 1s);
  CHECK_FALSE(h.crash_loop(t + 10s));
  (void)h.record_crash(t + 20s, 1s);
  CHECK(h.crash_loop(t + 20s));
  CHECK(h.crashes_in_window(t + 20s) == 3);
  CHECK_FALSE(h.crash_loop(t + 65s));  // the first crash left the window
  CHECK(h.crashes_in_window(t + 65s) == 2);
  h.reset();
  CHECK(h.crashes_in_window(t + 65s) == 0);
}
