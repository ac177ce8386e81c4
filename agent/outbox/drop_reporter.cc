#include "agent/outbox/drop_reporter.h"

#include "common/event_codec.h"
#include "common/log.h"

namespace rmm::agent {

DropReporter::DropReporter(Outbox& outbox, const AgentId& agent, const Clock& clock,
                           DropReporterOptions options)
    : outbox_(outbox), agent_(agent), clock_(clock), options_(options) {}

bool DropReporter::due(const DropReport& counts) const {
  if (counts.empty()) return false;
  if (counts.dropped_events > 0) return true;
  // Heartbeats alone: not while one is still waiting to be sent (the broker is away), and not
  // more often than the interval.
  if (outbox_.pending_heartbeat()) return false;
  return !last_heartbeats_alone_ ||
         clock_.steady_now() - *last_heartbeats_alone_ >= options_.heartbeats_alone_interval;
}

Result<std::optional<DropReport>> DropReporter::report_if_due() {
  if (!due(outbox_.drop_counts())) return std::optional<DropReport>();
  auto report = outbox_.append_drop_report([&](AgentSeq s, const DropReport& d) {
    const codec::OutboxDroppedInfo info{d.dropped_events, d.replaced_heartbeats,
                                        d.oldest_dropped_seq.value, d.newest_dropped_seq.value};
    return codec::build_outbox_dropped(
        codec::AgentEventHeader{EventId::generate(clock_), agent_, s, clock_.now()}, info);
  });
  if (!report) return std::unexpected(with_context(report.error(), "reporting outbox drops"));
  if (!*report) return report;
  if ((*report)->dropped_events == 0) last_heartbeats_alone_ = clock_.steady_now();
  log::warn("outbox.dropped", {{"metrics", (*report)->dropped_events},
                               {"heartbeats", (*report)->replaced_heartbeats}});
  return report;
}

}  // namespace rmm::agent
