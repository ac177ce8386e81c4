// The partitioned projection's units as the ops endpoint shows them (docs/operations.md, "Several
// projectors"): GET /units lists every unit, whichever process folds it, with its owner (the
// session holding its lock: application_name "rmm-projector pid <pid> on <host>" and PostgreSQL
// backend pid), checkpoint, watermark and lag; /metrics carries the same per unit as gauges.
//
// A unit's position is the higher of its checkpoint and watermark (every message of the unit up
// to there is folded); its lag is the stream's last sequence minus that position (messages of
// every unit: the unit has not proven it has none of its own among them), and its age the time
// since the stream stored the first message past the position (the unit's own oldest unfolded
// message is that one or a newer one), shown only while it lags. Read every stream-check-interval
// by the process's control loop: one query, one stream info request and one message lookup per
// lagging unit; handlers serve the last reading and never wait on PostgreSQL or NATS.
//
// Concurrency: collect() on the control loop's thread; update() and the readers are thread-safe.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <pqxx/connection>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "projector/db/projection_lock.h"

namespace rmm::projector {

struct UnitLag {
  db::UnitPosition unit;
  bool held_here = false;                             // by this process
  std::uint64_t position = 0;                         // max(checkpoint, watermark)
  std::uint64_t lag_messages = 0;                     // stream last sequence - position
  std::optional<double> oldest_unfolded_age_seconds;  // while it lags, when the stream says
};

struct UnitsReading {
  std::string stream;
  std::uint64_t stream_last_seq = 0;
  std::string read_at;  // RFC 3339, UTC
  std::vector<UnitLag> units;
};

// Reads `units` on `conn` and `stream` on `js`; `held` names the units this process folds.
Result<UnitsReading> collect_units(pqxx::connection& conn, jsCtx* js, const std::string& stream,
                                   const std::vector<std::string>& units,
                                   const std::set<std::string>& held);

class UnitsReport {
 public:
  void update(UnitsReading reading);
  // {"stream", "stream_last_seq", "read_at", "units": [{"unit", "owner": {"application_name",
  // "backend_pid", "client_addr", "since"} or null, "held_here", "checkpoint", "watermark",
  // "lag_messages", "oldest_unfolded_age_seconds" (null when not lagging or unknown)}]};
  // "units" is empty before the first reading.
  std::string render_json() const;

 private:
  mutable std::mutex mu_;
  UnitsReading last_;
};

}  // namespace rmm::projector
