#include "projector/db/stream_losses.h"

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
