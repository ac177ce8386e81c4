#include "projector/status.h"

#include <algorithm>

namespace rmm::projector {

ProjectorStatus::ProjectorStatus(std::string stream)
    : stream_(std::move(stream)), last_beat_ns_(now_ns()), checkpoint_moved_ns_(now_ns()) {
  auto& r = registry_;
  r.counter("rmm_projector_events_folded_total", "Agent events folded into the read models");
  r.counter("rmm_projector_duplicates_total",
            "Agent events skipped as already folded (at or below the agent's sequence)");
  r.counter("rmm_projector_dead_letters_total",
            "Messages that could not be folded, stored in dead_letters");
  r.counter("rmm_projector_dead_letters_dropped_total",
            "Dead messages over the per-source cap: counted, not stored");
  r.counter("rmm_projector_messages_committed_total",
            "Stream messages committed with the checkpoint (folded, ignored or dead)");
  r.counter("rmm_projector_stream_losses_total",
            "Ranges of events the stream deleted before they were folded (ops.stream_losses)");
  r.counter("rmm_projector_stream_lost_events_total",
            "Sequences in those ranges that could not be recovered from the control archive");
  r.histogram("rmm_projector_batch_write_seconds",
              "Time to write one transaction (rows, dead letters and checkpoint)",
              {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30});
  r.gauge("rmm_projector_checkpoint_sequence", "Last stream sequence committed", {"stream"});
  r.gauge("rmm_projector_stream_last_sequence", "The stream's last sequence, as last seen",
          {"stream"});
  r.gauge("rmm_projector_lag_messages", "Stream messages not yet folded", {"stream"});
  r.gauge("rmm_projector_checkpoint_age_seconds",
          "Seconds since the checkpoint last moved while messages wait (0 when caught up)",
          {"stream"});
  r.gauge("rmm_projector_owner", "1 when this process owns the projection, 0 as a standby");
  r.gauge("rmm_projector_ready", "1 when /readyz answers 200");
}

void ProjectorStatus::beat() {
  last_beat_ns_.store(now_ns());
}

void ProjectorStatus::set_owner(bool owner) {
  owner_.store(owner);
}

void ProjectorStatus::set_db_ok(bool ok) {
  db_ok_.store(ok);
}

void ProjectorStatus::set_migrated() {
  migrated_.store(true);
}

void ProjectorStatus::stream_last_seq(std::uint64_t seq) {
  std::uint64_t cur = last_seq_.load();
  while (seq > cur && !last_seq_.compare_exchange_weak(cur, seq)) {
  }
}

void ProjectorStatus::checkpoint(std::uint64_t seq) {
  if (checkpoint_.exchange(seq) != seq) checkpoint_moved_ns_.store(now_ns());
  stream_last_seq(seq);
}

void ProjectorStatus::batch_written(const db::BatchStats& stats, Steady::duration took) {
  auto& r = registry_;
  r.add("rmm_projector_events_folded_total", stats.applied);
  r.add("rmm_projector_duplicates_total", stats.duplicates);
  r.add("rmm_projector_dead_letters_total", stats.dead_letters);
  r.add("rmm_projector_dead_letters_dropped_total", stats.dead_letters_dropped);
  const std::uint64_t before = checkpoint_.load();
  if (stats.checkpoint.value > before) {
    r.add("rmm_projector_messages_committed_total",
          static_cast<double>(stats.checkpoint.value - before));
  }
  if (stats.lost > 0 || stats.recovered > 0) r.add("rmm_projector_stream_losses_total", 1);
  r.add("rmm_projector_stream_lost_events_total", static_cast<double>(stats.lost));
  r.observe("rmm_projector_batch_write_seconds", std::chrono::duration<double>(took).count());
  checkpoint(stats.checkpoint.value);
}

bool ProjectorStatus::live(Steady::duration stall) const {
  return now_ns() - last_beat_ns_.load() <= std::chrono::nanoseconds(stall).count();
}

std::string ProjectorStatus::render() {
  const std::uint64_t cp = checkpoint_.load();
  const std::uint64_t last = std::max(last_seq_.load(), cp);
  const std::uint64_t lag = last - cp;
  const double age =
      lag == 0 ? 0.0 : static_cast<double>(now_ns() - checkpoint_moved_ns_.load()) / 1e9;
  auto& r = registry_;
  r.set("rmm_projector_checkpoint_sequence", static_cast<double>(cp), {stream_});
  r.set("rmm_projector_stream_last_sequence", static_cast<double>(last), {stream_});
  r.set("rmm_projector_lag_messages", static_cast<double>(lag), {stream_});
  r.set("rmm_projector_checkpoint_age_seconds", age, {stream_});
  r.set("rmm_projector_owner", owner_.load() ? 1 : 0);
  r.set("rmm_projector_ready", ready() ? 1 : 0);
  return r.render();
}

}  // namespace rmm::projector
