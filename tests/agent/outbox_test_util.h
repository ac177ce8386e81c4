// Helpers shared by the outbox tests: real envelopes for the sequence the outbox assigns.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "agent/outbox/outbox.h"
#include "common/clock.h"
#include "common/event_codec.h"
#include "common/ids.h"

namespace rmm::test {

// A MetricsSample envelope carrying `seq`.
inline std::vector<std::uint8_t> metrics_event(const AgentId& agent, const Clock& clock,
                                               AgentSeq seq) {
  codec::MetricsInfo m;
  m.cpu_percent = static_cast<float>(seq.value % 100);
  m.memory_total_bytes = 8ull << 30;
  m.memory_used_bytes = seq.value;
  return codec::build_metrics({EventId::generate(clock), agent, seq, clock.now()}, m);
}

inline std::vector<std::uint8_t> started_event(const AgentId& agent, const Clock& clock,
                                               AgentSeq seq) {
  codec::AgentStartedInfo s{"outbox-test", "Debian", "12", "6.1",     "x86_64",
                            "0.1.0",       "cpu",    2,    1ull << 30};
  return codec::build_agent_started({EventId::generate(clock), agent, seq, clock.now()}, s);
}

inline std::vector<std::uint8_t> heartbeat_event(const AgentId& agent, const Clock& clock,
                                                 std::uint64_t n) {
  codec::HeartbeatInfo hb{"0.1.0", 42, 0, 0};
  return codec::build_heartbeat(
      {EventId::generate(clock), agent, AgentSeq{n}, clock.now(), schema::Lane::Presence}, hb);
}

// Appends a droppable metrics event or a durable AgentStarted; REQUIREs success.
inline AgentSeq append_event(agent::Outbox& box, const AgentId& agent, const Clock& clock,
                             agent::EventClass cls) {
  const bool droppable = cls == agent::EventClass::kDroppable;
  auto seq = box.append(
      cls, droppable ? schema::Payload::MetricsSample : schema::Payload::AgentStarted,
      [&](AgentSeq s) {
        return droppable ? metrics_event(agent, clock, s) : started_event(agent, clock, s);
      });
  if (!seq) throw std::runtime_error("append failed: " + seq.error().message);
  return *seq;
}

}  // namespace rmm::test
