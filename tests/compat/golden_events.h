// The fixed events behind tests/compat/<version>/: deterministic ids, times and values, so that a
// golden file written by one build can be checked field by field by every later build.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/event_codec.h"

namespace rmm::golden {

inline codec::AgentEventHeader header(std::uint64_t seq) {
  UuidBytes event{}, agent{};
  for (std::size_t i = 0; i < event.size(); ++i) {
    event[i] = static_cast<std::uint8_t>(0xe0 + i);
    agent[i] = static_cast<std::uint8_t>(0xa0 + i);
  }
  event[15] = static_cast<std::uint8_t>(seq);
  return {EventId(event), AgentId(agent), AgentSeq{seq},
          1'750'000'000'000'000'000 + 1000 * static_cast<std::int64_t>(seq)};
}

inline codec::AgentStartedInfo started_info() {
  return {"golden-host", "Debian GNU/Linux",    "12", "6.1.0-golden", "x86_64",
          "0.1.0",       "Golden CPU @ 3.0GHz", 8,    16ULL << 30};
}

inline codec::HeartbeatInfo heartbeat_info() {
  return {"0.1.0", 3600, 7, 42};
}

inline codec::MetricsInfo metrics_info() {
  return {12.5f, 16ULL << 30, 4ULL << 30, 12ULL << 30, 0.5f, 0.25f, 0.125f};
}

// (file name, bytes) of every golden event of schema version 1.
inline std::vector<std::pair<std::string, std::vector<std::uint8_t>>> v1_events() {
  return {{"agent_started.rmev", codec::build_agent_started(header(1), started_info())},
          {"heartbeat.rmev", codec::build_heartbeat(header(2), heartbeat_info())},
          {"metrics_sample.rmev", codec::build_metrics(header(3), metrics_info())}};
}

}  // namespace rmm::golden
