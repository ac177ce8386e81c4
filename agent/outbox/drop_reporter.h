// Turns the outbox's drop counters into OutboxDropped events, few of them: the events are durable
// (never dropped), so one per replaced heartbeat would fill the outbox during an outage with
// reports of the outage itself (about 2,900 a day at the default 30 s interval).
//
// - Dropped metrics are reported at once, with the replaced heartbeats counted so far. The disk
//   budget drops in batches (down to 1/64 below the budget), so that is one event per batch.
// - Replaced heartbeats alone are held back, counted in the outbox's meta family, until the
//   presence lane is clear again (the broker acknowledged the latest heartbeat: the outage is
//   over), and then reported at most once per `heartbeats_alone_interval`. A day offline costs one
//   event, sent after the heartbeat that shows the agent is back; a flapping link at most one an
//   hour. The counts survive restarts of the agent until they are reported.
//
// Concurrency: one owner thread (the agent's main loop). The Outbox itself is thread-safe.
// The counters are reset in the same write that appends the event (Outbox::append_drop_report).
#pragma once

#include <chrono>
#include <optional>

#include "agent/outbox/outbox.h"

namespace rmm::agent {

struct DropReporterOptions {
  std::chrono::milliseconds heartbeats_alone_interval{std::chrono::hours(1)};
};

class DropReporter {
 public:
  DropReporter(Outbox& outbox, const AgentId& agent, const Clock& clock,
               DropReporterOptions options = {});

  // Appends one OutboxDropped event when a report is due (see above); returns what it reported,
  // or nullopt when nothing was due.
  Result<std::optional<DropReport>> report_if_due();

 private:
  bool due(const DropReport& counts) const;

  Outbox& outbox_;
  AgentId agent_;
  const Clock& clock_;
  DropReporterOptions options_;
  // When replaced heartbeats were last reported without dropped metrics.
  std::optional<std::chrono::steady_clock::time_point> last_heartbeats_alone_;
};

}  // namespace rmm::agent
