// Time is injected: production code asks a Clock, tests drive a FakeClock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace rmm {

// Unix time in nanoseconds; the unit of every timestamp in events and read models.
using UnixNanos = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, used for event timestamps.
  virtual UnixNanos now() const = 0;
  // Monotonic time, used for intervals, deadlines and backoff.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

class RealClock final : public Clock {
 public:
  UnixNanos now() const override {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
};

// A clock that moves only when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(UnixNanos start = 1'700'000'000'000'000'000) : now_(start) {}
  UnixNanos now() const override { return now_.load(); }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now_.load()));
  }
  void advance(std::chrono::nanoseconds d) { now_ += d.count(); }

 private:
  std::atomic<UnixNanos> now_;
};

// The process-wide real clock, for code that has no clock injected.
const Clock& real_clock();

}  // namespace rmm
