// The settings the running agent may change on `apply_config`: the three intervals and the
// collectors switched off. apply() checks every value against the declarations in settings.cc
// and changes all of them or none.
//
// Concurrency: apply() runs on a command worker thread, the getters on the main loop; a mutex
// guards the values and `generation()` tells the loop that something changed.
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>

#include "common/command_codec.h"
#include "common/result.h"

namespace rmm::agent {

class LiveSettings {
 public:
  struct Values {
    std::chrono::milliseconds heartbeat_interval{30'000};
    std::chrono::milliseconds metrics_interval{60'000};
    std::chrono::milliseconds inventory_interval{6 * 3'600'000};
    std::set<std::string, std::less<>> disabled_collectors;
  };

  explicit LiveSettings(Values initial) : values_(std::move(initial)) {}

  Status apply(const codec::KeyValues& settings);
  Values get() const;
  std::uint64_t generation() const { return generation_.load(); }

 private:
  mutable std::mutex mutex_;
  Values values_;
  std::atomic<std::uint64_t> generation_{0};
};

// "a, b,c" -> {"a", "b", "c"}; unknown collector names are an error.
Result<std::set<std::string, std::less<>>> parse_collector_list(std::string_view text);

}  // namespace rmm::agent
