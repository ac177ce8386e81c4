#include "projector/db/stream_losses.h"

#include <fmt/format.h>

#include <algorithm>
#include <pqxx/nontransaction>
#include <pqxx/result>

namespace rmm::projector::db {

void record_stream_loss(pqxx::transaction_base& tx, std::string_view projection,
                        const StreamLoss& loss) {
  tx.exec_params0(
      "INSERT INTO ops.stream_losses "
      "(projection, stream, from_seq, to_seq, count, recovered, reason) "
      "VALUES ($1, $2, $3::bigint, $4::bigint, $4::bigint - $3::bigint + 1 - $5::bigint, $5, $6) "
      "ON CONFLICT (projection, stream, from_seq) DO NOTHING",
      std::string(projection), loss.stream, static_cast<std::int64_t>(loss.from.value),
      static_cast<std::int64_t>(loss.to.value), static_cast<std::int64_t>(loss.recovered),
      loss.reason);
}

std::uint64_t record_unit_stream_loss(pqxx::transaction_base& tx, std::string_view projection,
                                      std::string_view unit, const StreamLoss& loss,
                                      const std::vector<std::uint64_t>& recovered) {
  // One key for the projection's rows (the single-key form: the owner locks use the two-key one).
  tx.exec_params1("SELECT pg_advisory_xact_lock(hashtextextended('ops.stream_losses/' || $1, 0))",
                  std::string(projection));
  auto in = [&](std::uint64_t from, std::uint64_t to) {
    return static_cast<std::uint64_t>(std::count_if(recovered.begin(), recovered.end(),
                                                    [&](auto s) { return s >= from && s <= to; }));
  };
  const auto from = static_cast<std::int64_t>(loss.from.value);
  const auto to = static_cast<std::int64_t>(loss.to.value);
  auto rows = tx.exec_params(
      "SELECT id, from_seq, to_seq, count FROM ops.stream_losses WHERE projection = $1 AND "
      "stream = $2 AND to_seq >= $3 AND from_seq <= $4 ORDER BY from_seq",
      std::string(projection), loss.stream, from, to);
  std::uint64_t lost = 0;
  auto record = [&](std::uint64_t a, std::uint64_t b) {
    const std::uint64_t kept = in(a, b);
    if (kept >= b - a + 1) return;  // every deleted message of the part was recovered
    tx.exec_params0(
        "INSERT INTO ops.stream_losses "
        "(projection, stream, from_seq, to_seq, count, recovered, reason) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (projection, stream, from_seq) DO NOTHING",
        std::string(projection), loss.stream, static_cast<std::int64_t>(a),
        static_cast<std::int64_t>(b), static_cast<std::int64_t>(b - a + 1 - kept),
        static_cast<std::int64_t>(kept), fmt::format("found by unit {}: {}", unit, loss.reason));
    lost += b - a + 1 - kept;
  };
  std::uint64_t next = loss.from.value;  // the first sequence no row covers yet
  for (const auto& row : rows) {
    const auto row_from = row[1].as<std::uint64_t>();
    const auto row_to = row[2].as<std::uint64_t>();
    if (row_from > next) record(next, row_from - 1);
    next = std::max(next, row_to + 1);
    // Recorded by a partition unit before the control unit recovered the row's control events.
    const auto kept = static_cast<std::int64_t>(in(row_from, row_to));
    if (kept == 0) continue;
    if (row[3].as<std::int64_t>() <= kept) {
      tx.exec_params0("DELETE FROM ops.stream_losses WHERE id = $1", row[0].as<std::int64_t>());
    } else {
      tx.exec_params0(
          "UPDATE ops.stream_losses SET count = count - $2, recovered = recovered + $2 "
          "WHERE id = $1",
          row[0].as<std::int64_t>(), kept);
    }
  }
  if (next <= loss.to.value) record(next, loss.to.value);
  return lost;
}

Result<std::vector<RecordedLoss>> open_stream_losses(pqxx::connection& conn) {
  try {
    pqxx::nontransaction tx(conn);
    if (tx.exec1("SELECT to_regclass('ops.stream_losses') IS NULL")[0].as<bool>()) {
      return std::vector<RecordedLoss>{};
    }
    // `recovered` through the row's JSON: a database not yet migrated to 0010 lacks the column.
    auto r = tx.exec(
        "SELECT id, projection, stream, from_seq, to_seq, count, "
        "to_char(detected_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), reason, "
        "COALESCE((to_jsonb(l) ->> 'recovered')::bigint, 0) "
        "FROM ops.stream_losses l WHERE acknowledged_at IS NULL ORDER BY id");
    std::vector<RecordedLoss> out;
    out.reserve(r.size());
    for (const auto& row : r) {
      out.push_back({.id = row[0].as<std::int64_t>(),
                     .projection = row[1].as<std::string>(),
                     .stream = row[2].as<std::string>(),
                     .from_seq = row[3].as<std::uint64_t>(),
                     .to_seq = row[4].as<std::uint64_t>(),
                     .count = row[5].as<std::uint64_t>(),
                     .recovered = row[8].as<std::uint64_t>(),
                     .detected_at = row[6].as<std::string>(),
                     .reason = row[7].as<std::string>()});
    }
    return out;
  } catch (const std::exception& e) {
    return failf("reading ops.stream_losses: {}", e.what());
  }
}

Result<int> acknowledge_stream_losses(pqxx::connection& conn, std::optional<std::int64_t> id,
                                      std::string_view by) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec_params(
        "UPDATE ops.stream_losses SET acknowledged_at = now(), acknowledged_by = $2 "
        "WHERE acknowledged_at IS NULL AND ($1::bigint < 0 OR id = $1)",
        id.value_or(-1), std::string(by));
    return static_cast<int>(r.affected_rows());
  } catch (const std::exception& e) {
    return failf("acknowledging stream losses: {}", e.what());
  }
}

}  // namespace rmm::projector::db
