#include "projector/db/batch_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <pqxx/binarystring>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>

#include "projector/db/control_rows.h"

namespace rmm::projector::db {
namespace {

// Timestamps cross as integer microseconds since the epoch: exact, and immune to the session's
// time zone or DateStyle.
constexpr std::string_view kFromMicros = "(timestamptz 'epoch' + {} * interval '1 microsecond')";
constexpr std::string_view kToMicros = "(extract(epoch from {}) * 1000000)::bigint";

std::int64_t ns_to_micros(UnixNanos ns) {
  // Floor division, so instants before 1970 round down like timestamptz does.
  return ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
}

const char* nullable(const std::optional<std::string>& s) {
  return s ? s->c_str() : nullptr;
}

std::string uuid_array(const std::set<AgentId>& ids) {
  std::string out = "{";
  for (const auto& id : ids) {
    if (out.size() > 1) out += ',';
    out += id.str();
  }
  out += '}';
  return out;
}

void load_rows(pqxx::work& tx, const std::set<AgentId>& ids, std::map<AgentId, AgentRow>& rows) {
  auto sql = fmt::format(
      "SELECT id, hostname, os, version, {}, {}, last_seq, events_applied FROM agents "
      "WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
      fmt::format(kToMicros, "first_seen"), fmt::format(kToMicros, "last_seen"));
  for (const auto& r : tx.exec_params(sql, uuid_array(ids))) {
    auto id = AgentId::parse(r[0].as<std::string>());
    if (!id) continue;  // PostgreSQL's uuid text form is canonical; cannot happen
    AgentRow row{.id = *id, .exists = true};
    if (!r[1].is_null()) row.hostname = r[1].as<std::string>();
    if (!r[2].is_null()) row.os = r[2].as<std::string>();
    if (!r[3].is_null()) row.version = r[3].as<std::string>();
    if (!r[4].is_null()) row.first_seen = r[4].as<std::int64_t>() * 1000;
    if (!r[5].is_null()) row.last_seen = r[5].as<std::int64_t>() * 1000;
    row.last_seq = r[6].as<std::int64_t>();
    row.events_applied = r[7].as<std::int64_t>();
    rows[*id] = std::move(row);
  }
}

void store_row(pqxx::work& tx, const AgentRow& row) {
  static const std::string sql = fmt::format(
      "INSERT INTO agents (id, hostname, os, version, first_seen, last_seen, last_seq, "
      "events_applied) VALUES ($1::uuid, $2, $3, $4, {}, {}, $7, $8) "
      "ON CONFLICT (id) DO UPDATE SET hostname = EXCLUDED.hostname, os = EXCLUDED.os, "
      "version = EXCLUDED.version, first_seen = EXCLUDED.first_seen, "
      "last_seen = EXCLUDED.last_seen, last_seq = EXCLUDED.last_seq, "
      "events_applied = EXCLUDED.events_applied",
      fmt::format(kFromMicros, "$5::bigint"), fmt::format(kFromMicros, "$6::bigint"));
  tx.exec_params0(sql, row.id.str(), nullable(row.hostname), nullable(row.os),
                  nullable(row.version), ns_to_micros(row.first_seen.value_or(0)),
                  ns_to_micros(row.last_seen.value_or(0)), row.last_seq, row.events_applied);
}

}  // namespace

BatchWriter::BatchWriter(pqxx::connection& conn, std::string projection)
    : conn_(conn), projection_(std::move(projection)) {}

Result<StreamSeq> BatchWriter::read_checkpoint() {
  try {
    pqxx::work tx(conn_);
    auto r = tx.exec_params("SELECT stream_seq FROM projection_checkpoints WHERE projection = $1",
                            projection_);
    tx.commit();
    if (r.empty()) return StreamSeq{0};
    return StreamSeq{r[0][0].as<std::uint64_t>()};
  } catch (const std::exception& e) {
    return failf("reading checkpoint of projection '{}': {}", projection_, e.what());
  }
}

Result<BatchStats> BatchWriter::write(std::span<const BatchItem> items) {
  BatchStats stats;
  try {
    pqxx::work tx(conn_);
    tx.exec_params0(
        "INSERT INTO projection_checkpoints (projection, stream_seq, updated_at) "
        "VALUES ($1, 0, now()) ON CONFLICT (projection) DO NOTHING",
        projection_);
    auto cp = tx.exec_params1(
        "SELECT stream_seq FROM projection_checkpoints WHERE projection = $1 FOR UPDATE",
        projection_);
    const std::uint64_t checkpoint = cp[0].as<std::uint64_t>();

    // Stream order, one item per stream sequence: a batch may hold a redelivered message twice.
    std::vector<const BatchItem*> todo;
    std::set<std::uint64_t> seen;
    for (const auto& item : items) {
      if (item.stream_seq.value <= checkpoint || !seen.insert(item.stream_seq.value).second) {
        ++stats.already_checkpointed;
        continue;
      }
      todo.push_back(&item);
    }
    std::sort(todo.begin(), todo.end(),
              [](const BatchItem* a, const BatchItem* b) { return a->stream_seq < b->stream_seq; });

    std::set<AgentId> agent_ids;
    for (const auto* item : todo) {
      if (const auto* ev = std::get_if<AgentEvent>(&item->decoded)) agent_ids.insert(ev->agent);
    }
    std::map<AgentId, AgentRow> rows;
    if (!agent_ids.empty()) load_rows(tx, agent_ids, rows);

    std::set<AgentId> changed;
    std::uint64_t highest = checkpoint;
    for (const auto* item : todo) {
      highest = std::max(highest, item->stream_seq.value);
      if (const auto* ev = std::get_if<AgentEvent>(&item->decoded)) {
        if (fold(rows[ev->agent], *ev) == FoldOutcome::kApplied) {
          ++stats.applied;
          changed.insert(ev->agent);
        } else {
          ++stats.duplicates;
        }
      } else if (const auto* ce = std::get_if<ControlEvent>(&item->decoded)) {
        apply_control_event(tx, *ce, item->stream_seq);
        ++stats.applied;
      } else if (const auto* dl = std::get_if<DeadLetter>(&item->decoded)) {
        tx.exec_params0(
            "INSERT INTO dead_letters (projection, stream_seq, subject, reason, raw) "
            "VALUES ($1, $2, $3, $4, $5)",
            projection_, static_cast<std::int64_t>(item->stream_seq.value), dl->subject, dl->reason,
            pqxx::binarystring(dl->raw.data(), dl->raw.size()));
        ++stats.dead_letters;
      } else {
        ++stats.ignored;
      }
    }
    for (const auto& id : changed) store_row(tx, rows[id]);
    if (highest > checkpoint) {
      tx.exec_params0(
          "UPDATE projection_checkpoints SET stream_seq = $2, updated_at = now() "
          "WHERE projection = $1",
          projection_, static_cast<std::int64_t>(highest));
    }
    tx.commit();
    stats.checkpoint = StreamSeq{highest};
    return stats;
  } catch (const std::exception& e) {
    return failf("writing batch of projection '{}': {}", projection_, e.what());
  }
}

}  // namespace rmm::projector::db
