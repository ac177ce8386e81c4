#include "projector/db/projection_lock.h"

#include <fmt/format.h>
#include <unistd.h>

#include <array>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

namespace rmm::projector::db {
namespace {

// The two-key form of the advisory lock (pg_locks.objsubid = 2) keeps it apart from the one-key
// locks of migrations, the swap guard and snapshots. The first key says "projection owner"
// ("RMMP"); the second is the projection's name, hashed to a non-negative int4 so that pg_locks
// (which shows the keys as oid) matches it without sign games.
constexpr std::int64_t kOwnerKey = 0x524d4d50;
constexpr std::string_view kProjectionKeySql = "(hashtext($1) & 2147483647)";

}  // namespace

std::string projector_application_name() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return fmt::format("rmm-projector pid {} on {}", getpid(), host.data());
}

Status identify_session(pqxx::connection& conn, std::string_view application_name) {
  try {
    pqxx::nontransaction tx(conn);
    tx.exec_params("SELECT set_config('application_name', $1, false)",
                   std::string(application_name));
    return {};
  } catch (const std::exception& e) {
    return failf("setting application_name: {}", e.what());
  }
}

Result<bool> try_lock_projection(pqxx::connection& conn, std::string_view projection) {
  try {
    pqxx::nontransaction tx(conn);
    auto r =
        tx.exec_params1(fmt::format("SELECT pg_try_advisory_lock($2::int, {})", kProjectionKeySql),
                        std::string(projection), kOwnerKey);
    return r[0].as<bool>();
  } catch (const std::exception& e) {
    return failf("taking the owner lock of projection '{}': {}", projection, e.what());
  }
}

Result<std::optional<LockHolder>> projection_lock_holder(pqxx::connection& conn,
                                                         std::string_view projection) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params(
        fmt::format(
            "SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), ''), "
            "coalesce(to_char(a.backend_start AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = $2 AND l.objid::bigint = {} LIMIT 1",
            kProjectionKeySql),
        std::string(projection), kOwnerKey);
    if (r.empty()) return std::optional<LockHolder>{};
    return std::optional<LockHolder>(LockHolder{.backend_pid = r[0][0].as<int>(),
                                                .application_name = r[0][1].as<std::string>(),
                                                .client_addr = r[0][2].as<std::string>(),
                                                .backend_start = r[0][3].as<std::string>()});
  } catch (const std::exception& e) {
    return failf("looking up the owner of projection '{}': {}", projection, e.what());
  }
}

Result<std::vector<UnitPosition>> unit_positions(pqxx::connection& conn,
                                                 std::span<const std::string> units) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params(
        fmt::format(
            "SELECT u.name, coalesce(c.stream_seq, 0), coalesce(c.watermark, 0), h.pid, "
            "coalesce(h.application_name, ''), coalesce(host(h.client_addr), ''), "
            "coalesce(to_char(h.backend_start AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), '') "
            "FROM unnest(string_to_array($1, ',')) WITH ORDINALITY AS u(name, ord) "
            "LEFT JOIN projection_checkpoints c ON c.projection = u.name "
            "LEFT JOIN LATERAL (SELECT a.pid, a.application_name, a.client_addr, a.backend_start "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 "
            "AND l.mode = 'ExclusiveLock' "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid::bigint = $2 AND l.objid::bigint = {} LIMIT 1) h ON true "
            "ORDER BY u.ord",
            // The key of each row's unit, as the owner lock computes it for $1.
            "(hashtext(u.name) & 2147483647)"),
        fmt::format("{}", fmt::join(units, ",")), kOwnerKey);
    std::vector<UnitPosition> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      UnitPosition u{.unit = row[0].as<std::string>(),
                     .checkpoint = row[1].as<std::uint64_t>(),
                     .watermark = row[2].as<std::uint64_t>()};
      if (!row[3].is_null()) {
        u.owner = LockHolder{.backend_pid = row[3].as<int>(),
                             .application_name = row[4].as<std::string>(),
                             .client_addr = row[5].as<std::string>(),
                             .backend_start = row[6].as<std::string>()};
      }
      out.push_back(std::move(u));
    }
    return out;
  } catch (const std::exception& e) {
    return failf("reading the units' positions: {}", e.what());
  }
}

Result<bool> take_over_stale(pqxx::connection& conn, std::string_view projection,
                             std::string_view application_name) {
  auto holder = projection_lock_holder(conn, projection);
  if (!holder) return std::unexpected(holder.error());
  if (!*holder || (*holder)->application_name != application_name) return false;
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params1(
        "SELECT CASE WHEN $1::int <> pg_backend_pid() THEN pg_terminate_backend($1::int, 5000) "
        "ELSE false END",
        (*holder)->backend_pid);
    return r[0].as<bool>();
  } catch (const std::exception& e) {
    return failf("ending this process's stale session {}: {}", (*holder)->backend_pid, e.what());
  }
}

Result<bool> release_projection(pqxx::connection& conn, std::string_view projection) {
  try {
    pqxx::nontransaction tx(conn);
    auto r =
        tx.exec_params1(fmt::format("SELECT pg_advisory_unlock($2::int, {})", kProjectionKeySql),
                        std::string(projection), kOwnerKey);
    return r[0].as<bool>();
  } catch (const std::exception& e) {
    return failf("giving back the owner lock of projection '{}': {}", projection, e.what());
  }
}

Result<int> live_projector_processes(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    // Every connection of one process carries the same name; LIKE's '_' and '%' are literal
    // enough here (the prefix has neither).
    auto r = tx.exec1(
        "SELECT count(DISTINCT application_name) FROM pg_stat_activity "
        "WHERE datname = current_database() AND application_name LIKE 'rmm-projector pid % on %'");
    return r[0].as<int>();
  } catch (const std::exception& e) {
    return failf("counting the live projector processes: {}", e.what());
  }
}

Result<bool> try_lock_projection_shared(pqxx::connection& conn, std::string_view projection) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params1(
        fmt::format("SELECT pg_try_advisory_lock_shared($2::int, {})", kProjectionKeySql),
        std::string(projection), kOwnerKey);
    return r[0].as<bool>();
  } catch (const std::exception& e) {
    return failf("taking the shared lock of projection '{}': {}", projection, e.what());
  }
}

Status seed_unit_checkpoints(pqxx::connection& conn, std::span<const std::string> units) {
  try {
    pqxx::work tx(conn);
    tx.exec_params0(
        "INSERT INTO projection_checkpoints (projection, stream_seq, watermark, updated_at) "
        "SELECT u, c.seq, c.seq, now() FROM unnest(string_to_array($1, ',')) AS u, "
        "(SELECT coalesce(max(stream_seq), 0) AS seq FROM projection_checkpoints "
        "WHERE projection = 'core') AS c "
        "ON CONFLICT (projection) DO NOTHING",
        fmt::format("{}", fmt::join(units, ",")));
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return failf("seeding the unit checkpoints: {}", e.what());
  }
}

Result<std::optional<std::uint64_t>> units_ahead_of_core(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec1(
        "SELECT max(u.stream_seq) FROM projection_checkpoints u "
        "WHERE u.projection LIKE 'core/%' AND u.stream_seq > coalesce((SELECT stream_seq "
        "FROM projection_checkpoints WHERE projection = 'core'), 0)");
    if (r[0].is_null()) return std::optional<std::uint64_t>{};
    return std::optional<std::uint64_t>(r[0].as<std::uint64_t>());
  } catch (const std::exception& e) {
    return failf("comparing the unit checkpoints with the single projection's: {}", e.what());
  }
}

int fair_share(int units, int processes) {
  if (processes < 1) return units;
  return (units + processes - 1) / processes;
}

}  // namespace rmm::projector::db
