// What rmm-projector reports about itself: the Prometheus metrics and the liveness and readiness
// behind its ops endpoint (ops_http.h, docs/operations.md "Metrics").
//
// Lag is per stream: one durable consumer folds the whole stream (runner.h), there are no
// partitions with consumers of their own. It is the stream's last sequence as last seen (every
// stream-check-interval, and raised by every folded batch) minus the checkpoint. Checkpoint age
// is the time since the checkpoint last moved while events wait (0 when caught up): a stuck
// projector shows a growing age, an idle stream does not.
//
// Live: the main loop went round within `stall` (a fetch waits at most fetch-timeout; the write
// retries and standby waits go round too). Ready: this process owns the projection, has applied
// the migrations (so the read models' tables exist) and its PostgreSQL connection worked at the
// last write.
//
// Concurrency: every member is thread-safe (the runner writes, the HTTP workers read).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "common/metrics.h"
#include "projector/db/batch_writer.h"

namespace rmm::projector {

class ProjectorStatus {
 public:
  explicit ProjectorStatus(std::string stream);

  void beat();  // the main loop went round
  void set_owner(bool owner);
  void set_db_ok(bool ok);
  void set_migrated();
  void stream_last_seq(std::uint64_t seq);
  void checkpoint(std::uint64_t seq);
  // A committed transaction of `messages` stream messages.
  void batch_written(const db::BatchStats& stats, std::chrono::steady_clock::duration took);

  bool live(std::chrono::steady_clock::duration stall) const;
  bool ready() const { return owner_.load() && migrated_.load() && db_ok_.load(); }
  // The exposition, with the lag, age and state gauges computed now.
  std::string render();
  metrics::Registry& registry() { return registry_; }

 private:
  using Steady = std::chrono::steady_clock;
  static std::int64_t now_ns() { return Steady::now().time_since_epoch().count(); }

  const std::string stream_;
  metrics::Registry registry_;
  std::atomic<std::int64_t> last_beat_ns_;
  std::atomic<std::int64_t> checkpoint_moved_ns_;
  std::atomic<std::uint64_t> checkpoint_{0};
  std::atomic<std::uint64_t> last_seq_{0};
  std::atomic<bool> owner_{false};
  std::atomic<bool> db_ok_{false};
  std::atomic<bool> migrated_{false};
};

}  // namespace rmm::projector
