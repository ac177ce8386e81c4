#include "projector/rebuild/verify.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <pqxx/result>
#include <set>
#include <utility>

namespace rmm::projector::rebuild {
namespace {

// Tables that are not read models: the migration bookkeeping (applied_at is wall clock).
// projection_checkpoints: the replay runs to the live position by construction, and the live side
// holds one row per unit when it is partitioned (docs/architecture.md) where a replay has one.
const std::set<std::string, std::less<>> kSkippedTables{"schema_migrations",
                                                        "projection_checkpoints"};

// Columns whose values legitimately differ between two correct foldings of the same log.
const std::set<std::pair<std::string_view, std::string_view>> kUnstableColumns{
    // Wall clock of the commit that moved the checkpoint.
    {"projection_checkpoints", "updated_at"},
    // Wall clock of the commit that dead-lettered the message.
    {"dead_letters", "received_at"},
    // A bigserial: a rolled-back batch (a crash, a retry) consumes sequence values.
    {"dead_letters", "id"},
    // DEFAULT now() when migration 0002 inserted the default partner.
    {"partners", "created_at"},
};

// What the control events alone determine: compared when telemetry has aged out of the log.
struct ControlPlaneTable {
  std::string_view table;
  std::vector<std::string_view> only;  // compare just these columns (empty: every stable one)
  std::vector<std::pair<std::string_view, std::string_view>> replaced;  // column -> expression
  std::string_view where;  // the rows compared ("{schema}" names the side's schema)
};

const std::vector<ControlPlaneTable>& control_plane() {
  static const std::vector<ControlPlaneTable> tables{
      {.table = "agent_keys"},
      // Enrolled agents, by their identity: hostname, versions and last_seen come from telemetry,
      // and an agent with a minted credential exists only through its telemetry.
      {.table = "agents",
       .only = {"id", "site_id", "public_key", "fingerprint_hash", "enrollment_code_id",
                "enrolled_at", "revoked_at"},
       .where = "enrolled_at IS NOT NULL"},
      // An alert action is scoped through its alert, which telemetry raised.
      {.table = "audit_log",
       .replaced = {{"client_id", "CASE WHEN target_kind = 'alert' THEN NULL ELSE client_id END"},
                    {"site_id", "CASE WHEN target_kind = 'alert' THEN NULL ELSE site_id END"}}},
      {.table = "clients"},
      {.table = "clone_suspicions"},
      {.table = "effective_policies",
       .where = "agent_id IN (SELECT id FROM {schema}.agents WHERE enrolled_at IS NOT NULL)"},
      {.table = "enrollment_codes"},
      {.table = "partners"},
      {.table = "policies"},
      {.table = "releases"},
      {.table = "rollout_rings"},
      {.table = "rollouts"},
      {.table = "sites"},
      {.table = "user_scopes"},
      {.table = "users"},
  };
  return tables;
}

const ControlPlaneTable* control_plane_table(std::string_view table) {
  for (const auto& t : control_plane()) {
    if (t.table == table) return &t;
  }
  return nullptr;
}

constexpr int kFetchRows = 5000;

std::string qualified(pqxx::transaction_base& tx, const std::string& schema,
                      const std::string& table) {
  return tx.quote_name(schema) + "." + tx.quote_name(table);
}

std::vector<std::string> list_tables(pqxx::transaction_base& tx, const std::string& schema) {
  std::vector<std::string> out;
  for (const auto& r : tx.exec_params(
           "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
           "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition "
           "ORDER BY c.relname",
           schema)) {
    auto name = r[0].as<std::string>();
    if (!kSkippedTables.contains(name)) out.push_back(std::move(name));
  }
  return out;
}

std::vector<std::string> stable_columns(pqxx::transaction_base& tx, const std::string& schema,
                                        const std::string& table) {
  std::vector<std::string> out;
  for (const auto& r :
       tx.exec_params("SELECT a.attname FROM pg_attribute a WHERE a.attrelid = $1::regclass "
                      "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                      qualified(tx, schema, table))) {
    auto name = r[0].as<std::string>();
    if (!kUnstableColumns.contains({table, name})) out.push_back(std::move(name));
  }
  return out;
}

// "SELECT ROW(c1, c2, ...)::text AS r FROM schema.table [WHERE ...]"; `partial` (a control-plane
// table of a partial log) chooses the columns and rows.
std::string rows_sql(pqxx::transaction_base& tx, const std::string& schema,
                     const std::string& table, const std::vector<std::string>& columns,
                     const RowFilters& filters, const ControlPlaneTable* partial = nullptr) {
  std::string cols;
  for (const auto& c : columns) {
    if (partial != nullptr && !partial->only.empty() &&
        std::find(partial->only.begin(), partial->only.end(), c) == partial->only.end()) {
      continue;
    }
    if (!cols.empty()) cols += ", ";
    std::string expr = tx.quote_name(c);
    if (partial != nullptr) {
      for (const auto& [column, replacement] : partial->replaced) {
        if (column == c) expr = replacement;
      }
    }
    cols += expr;
  }
  std::string where;
  if (partial != nullptr) {
    if (!partial->where.empty()) {
      where = std::string(partial->where);
      const std::string_view placeholder = "{schema}";
      if (auto at = where.find(placeholder); at != std::string::npos) {
        where.replace(at, placeholder.size(), tx.quote_name(schema));
      }
    }
  } else if (auto filter = filters.find(table); filter != filters.end()) {
    where = filter->second;
  }
  return fmt::format("SELECT ROW({})::text AS r FROM {}{}", cols, qualified(tx, schema, table),
                     where.empty() ? "" : " WHERE " + where);
}

struct Checksum {
  std::int64_t rows = 0;
  std::string sum;
  bool operator==(const Checksum&) const = default;
};

Checksum checksum(pqxx::transaction_base& tx, const std::string& rows_query) {
  auto r = tx.exec1(fmt::format(
      "SELECT count(*), coalesce(sum(('x' || substr(md5(r), 1, 16))::bit(64)::bigint::numeric), "
      "0)::text FROM ({}) s",
      rows_query));
  return {r[0].as<std::int64_t>(), r[1].as<std::string>()};
}

// Reads (md5, text) rows in md5 order through a cursor.
class HashedRows {
 public:
  HashedRows(pqxx::transaction_base& tx, const std::string& rows_query, std::string cursor)
      : tx_(tx), cursor_(std::move(cursor)) {
    tx_.exec0(
        fmt::format("DECLARE {} NO SCROLL CURSOR FOR SELECT md5(r) COLLATE \"C\" AS h, r FROM ({}) "
                    "s ORDER BY h",
                    cursor_, rows_query));
  }
  ~HashedRows() {
    try {
      tx_.exec0("CLOSE " + cursor_);
    } catch (const std::exception&) {
      // The transaction is broken and will be rolled back with the cursor in it.
    }
  }
  HashedRows(const HashedRows&) = delete;
  HashedRows& operator=(const HashedRows&) = delete;

  // The current row, or nullptr at the end.
  const std::pair<std::string, std::string>* peek() {
    if (pos_ == rows_.size() && !done_) refill();
    return pos_ < rows_.size() ? &rows_[pos_] : nullptr;
  }
  void pop() { ++pos_; }

 private:
  void refill() {
    rows_.clear();
    pos_ = 0;
    auto r = tx_.exec(fmt::format("FETCH {} FROM {}", kFetchRows, cursor_));
    for (const auto& row : r)
      rows_.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
    done_ = r.size() < static_cast<std::size_t>(kFetchRows);
  }

  pqxx::transaction_base& tx_;
  std::string cursor_;
  std::vector<std::pair<std::string, std::string>> rows_;
  std::size_t pos_ = 0;
  bool done_ = false;
};

void diff_rows(pqxx::transaction_base& live, const std::string& live_query,
               pqxx::transaction_base& rebuilt, const std::string& rebuilt_query,
               std::size_t max_diffs, TableDifference& out) {
  HashedRows a(live, live_query, "rmm_verify_live");
  HashedRows b(rebuilt, rebuilt_query, "rmm_verify_rebuilt");
  while (out.only_live.size() < max_diffs && out.only_rebuilt.size() < max_diffs) {
    const auto* x = a.peek();
    const auto* y = b.peek();
    if (x == nullptr && y == nullptr) break;
    if (y == nullptr || (x != nullptr && x->first < y->first)) {
      out.only_live.push_back(x->second);
      a.pop();
    } else if (x == nullptr || y->first < x->first) {
      out.only_rebuilt.push_back(y->second);
      b.pop();
    } else {
      a.pop();
      b.pop();
    }
  }
}

}  // namespace

std::vector<std::string> control_plane_tables() {
  std::vector<std::string> out;
  for (const auto& t : control_plane()) out.emplace_back(t.table);
  std::sort(out.begin(), out.end());
  return out;
}

Result<VerifyReport> compare_schemas(pqxx::transaction_base& live, const std::string& live_schema,
                                     pqxx::transaction_base& rebuilt,
                                     const std::string& rebuilt_schema, std::size_t max_diffs,
                                     const RowFilters& filters, StreamSeq complete_from) {
  VerifyReport report;
  report.complete_from = complete_from;
  const bool partial = complete_from > StreamSeq{1};
  try {
    auto live_tables = list_tables(live, live_schema);
    auto rebuilt_tables = list_tables(rebuilt, rebuilt_schema);
    for (const auto& t : rebuilt_tables) {
      if (!std::binary_search(live_tables.begin(), live_tables.end(), t)) {
        report.differences.push_back({.table = t, .note = "missing in the live schema"});
      }
    }
    for (const auto& table : live_tables) {
      const ControlPlaneTable* spec = partial ? control_plane_table(table) : nullptr;
      if (partial && spec == nullptr) {
        report.not_comparable.push_back(table);
        continue;
      }
      report.tables.push_back(table);
      if (!std::binary_search(rebuilt_tables.begin(), rebuilt_tables.end(), table)) {
        report.differences.push_back({.table = table, .note = "missing in the rebuilt schema"});
        continue;
      }
      auto columns = stable_columns(live, live_schema, table);
      if (columns != stable_columns(rebuilt, rebuilt_schema, table)) {
        report.differences.push_back({.table = table, .note = "the columns differ"});
        continue;
      }
      auto live_query = rows_sql(live, live_schema, table, columns, filters, spec);
      auto rebuilt_query = rows_sql(rebuilt, rebuilt_schema, table, columns, filters, spec);
      auto a = checksum(live, live_query);
      auto b = checksum(rebuilt, rebuilt_query);
      if (a == b) continue;
      TableDifference d{.table = table, .live_rows = a.rows, .rebuilt_rows = b.rows};
      diff_rows(live, live_query, rebuilt, rebuilt_query, max_diffs, d);
      report.differences.push_back(std::move(d));
    }
  } catch (const std::exception& e) {
    return failf("comparing schemas {} and {}: {}", live_schema, rebuilt_schema, e.what());
  }
  return report;
}

std::string format_report(const VerifyReport& report) {
  std::string out;
  for (const auto& d : report.differences) {
    if (!d.note.empty()) {
      out += fmt::format("table {}: {}\n", d.table, d.note);
      continue;
    }
    out += fmt::format("table {}: {} live rows, {} rebuilt rows\n", d.table, d.live_rows,
                       d.rebuilt_rows);
    for (const auto& r : d.only_live) out += fmt::format("  only live:    {}\n", r);
    for (const auto& r : d.only_rebuilt) out += fmt::format("  only rebuilt: {}\n", r);
  }
  if (!report.not_comparable.empty()) {
    std::string names;
    for (const auto& t : report.not_comparable) names += (names.empty() ? "" : ", ") + t;
    out += fmt::format(
        "not comparable (the stream no longer holds the telemetry before sequence {}; the control "
        "plane was compared): {}\n",
        report.complete_from.value, names);
    out += fmt::format("{} tables compared, {} not comparable, {} differ\n", report.tables.size(),
                       report.not_comparable.size(), report.differences.size());
    return out;
  }
  out += fmt::format("{} tables compared, {} differ\n", report.tables.size(),
                     report.differences.size());
  return out;
}

}  // namespace rmm::projector::rebuild
