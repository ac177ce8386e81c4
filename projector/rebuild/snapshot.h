// Point-in-time read models (`rmm-projector rebuild --until T --schema NAME`, `rmm-replay
// snapshot`): the stream replayed from its start up to the last message stored at or before T,
// into a schema of its own that stays in place for SQL analysis. It is never swapped with the
// live read models (`public`), which are not touched.
//
// The bound is a stream sequence (the last message whose JetStream time is <= T), so the replay
// is the live fold cut at one point of the log: alerts and offline detection run on event time
// and the clock ticks stored in the log, and a snapshot at T is the same whenever it is built.
// Retention is applied as of T (raw metric partitions older than T - metrics retention are gone,
// as they were from the live read models at T).
//
// The replay writes into a scratch schema (rmm_snapshot_<s>_<pid>) and renames it to NAME at the
// end, so a failed or interrupted run leaves an earlier snapshot of the same name intact.
//
// Concurrency: the final rename runs in one transaction; two runs for the same NAME at once are
// not coordinated beyond that (the second rename fails, or with --replace replaces the first).
// Limitations: --replace only drops a schema that a snapshot made (its COMMENT says so).
#pragma once

#include <atomic>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/result.h"
#include "projector/rebuild/commands.h"

namespace rmm::projector::rebuild {

// The COMMENT ON SCHEMA of every snapshot starts with this; --replace requires it.
inline constexpr std::string_view kSnapshotMarker = "rmm-snapshot";

struct SnapshotOptions {
  CommandOptions base;  // servers, stream, migrations, batch size, retention
  UnixNanos until = 0;  // stream time, inclusive
  std::string schema;   // where the snapshot stays
  bool replace = false;
};

// A schema name a snapshot may take: a lower-case identifier ([a-z][a-z0-9_]*, at most 63
// bytes) that is not `public` (the live read models), `auth` (the API's), a PostgreSQL schema
// (pg_*, information_schema) or a scratch name of rebuild, verify or snapshot.
Status check_snapshot_schema_name(std::string_view name);

// The last stream sequence whose message was stored at or before `t` (0 when none was).
Result<StreamSeq> last_seq_at_or_before(nats::Connection& conn, const std::string& stream,
                                        UnixNanos t);

// Exit codes: 0 built; 1 failed (nothing left behind, an earlier snapshot of that name intact);
// 2 refused (a bad name, or the schema exists and --replace was not given or it is no snapshot).
int run_snapshot(const SnapshotOptions& options, const std::atomic<bool>& stop);

}  // namespace rmm::projector::rebuild
