// Who drives a projection: a PostgreSQL session-level advisory lock per projection, held on the
// live projector's writer connection for as long as that connection lives. Only the holder folds
// the stream into the read models and touches the durable consumer; a second rmm-projector on the
// same database (an operator mistake, or a restart that overlaps the old process) waits as a hot
// standby and takes over when the holder's connection goes (process exit, crash, lost network).
//
// Because the lock belongs to the writer's connection, a lost connection is a lost lock: after
// every reconnect the lock is taken again before the next write, and a failure to take it means
// another process owns the projection now.
//
// Not the rebuild's swap guard (db/swap_guard.h, a transaction lock taken by every batch): a
// rebuild and verify never take this lock and keep working next to the live projector.
//
// Concurrency: the functions run statements on the given connection (single-threaded, like any
// pqxx::connection).
// Limitations: advisory locks are per database: two projectors writing different databases never
// see each other. A holder whose TCP connection died without the server noticing keeps the lock
// until PostgreSQL notices (tcp keepalives); see `take_over_stale`.
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::projector::db {

// The session that holds a projection's lock, from pg_locks and pg_stat_activity.
struct LockHolder {
  int backend_pid = 0;           // PostgreSQL backend (pg_terminate_backend takes it)
  std::string application_name;  // "rmm-projector pid <os pid> on <host>" for our processes
  std::string client_addr;       // empty for a Unix socket
  std::string backend_start;     // when that connection was opened (the lock soon after)
};

// This process's application_name: "rmm-projector pid <pid> on <hostname>".
std::string projector_application_name();

// Sets application_name on `conn`, so other processes can tell who holds the lock.
Status identify_session(pqxx::connection& conn, std::string_view application_name);

// pg_try_advisory_lock for `projection`: true when this session holds it now (again: taking a held
// lock twice stacks, which is harmless since the session never releases it before closing).
Result<bool> try_lock_projection(pqxx::connection& conn, std::string_view projection);

// The session holding `projection`'s lock, if any (another session, or this one).
Result<std::optional<LockHolder>> projection_lock_holder(pqxx::connection& conn,
                                                         std::string_view projection);

// Ends the holder's backend when its application_name is exactly `application_name`: the holder is
// this same process's own earlier connection, which died on our side while the server kept it.
// Returns whether a backend was ended.
Result<bool> take_over_stale(pqxx::connection& conn, std::string_view projection,
                             std::string_view application_name);

// Gives `projection`'s lock back before the session ends (pg_advisory_unlock), so another process
// may take it: how a process hands over units beyond its fair share. False when this session did
// not hold it.
Result<bool> release_projection(pqxx::connection& conn, std::string_view projection);

// Sharing the partitioned projection's units (docs/architecture.md, "Partitioned projection"):
// the number of rmm-projector processes with a session on this database, this one included,
// told apart by the application_name each sets (projector_application_name()). A process whose
// sessions all ended no longer counts, so the survivors' share grows at their next poll.
Result<int> live_projector_processes(pqxx::connection& conn);

// The partitioned projection and the single one must never run on the same read models: every
// partitioned process holds the "core" lock shared on a connection of its own, the single
// projection holds it exclusive (try_lock_projection). True when taken.
Result<bool> try_lock_projection_shared(pqxx::connection& conn, std::string_view projection);

// Starting the units: each one without a checkpoint row starts where the single projection
// stopped (its checkpoint, also as its watermark). Idempotent.
Status seed_unit_checkpoints(pqxx::connection& conn, std::span<const std::string> units);

// The single projection must not go on from its old checkpoint once units folded past it (it
// would apply their messages again): the highest unit checkpoint above "core"'s, if any.
Result<std::optional<std::uint64_t>> units_ahead_of_core(pqxx::connection& conn);

// Where each unit of the partitioned projection is and who folds it, for the ops endpoint
// (units_report.h): one query over projection_checkpoints, pg_locks and pg_stat_activity.
struct UnitPosition {
  std::string unit;
  std::uint64_t checkpoint = 0;  // 0 while the unit has no row
  std::uint64_t watermark = 0;
  std::optional<LockHolder> owner;  // none while no process holds the unit
};
Result<std::vector<UnitPosition>> unit_positions(pqxx::connection& conn,
                                                 std::span<const std::string> units);

// How many of `units` one of `processes` live processes should hold: ceil(units / processes),
// all of them when `processes` is below 1 (this process's own count failed to include it).
int fair_share(int units, int processes);

}  // namespace rmm::projector::db
