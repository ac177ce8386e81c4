// GET /api/v1/agents, /agents/{id}, /agents/{id}/commands, /agents/{id}/effective-policy.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/principal.h"
#include "api/db/sql_params.h"
#include "api/routes/json_reply.h"
#include "api/routes/read_common.h"
#include "api/routes/read_routes.h"
#include "api/server/query.h"

namespace rmm::api {
namespace {

constexpr const char* kMemPercent =
    "(CASE WHEN m.mem_total_bytes > 0 THEN m.mem_used_bytes * 100.0 / m.mem_total_bytes END)"
    "::float8";
constexpr const char* kDiskMax =
    "(SELECT max((f->>'used_bytes')::float8 * 100 / NULLIF((f->>'total_bytes')::float8, 0)) "
    "FROM jsonb_array_elements(COALESCE(m.filesystems, '[]'::jsonb)) f)";

constexpr const char* kActiveAlerts =
    "(SELECT count(*) FROM alerts al WHERE al.agent_id = a.id AND al.status = 'active')";

// The list item's columns, in the order item_json() reads them. Needs aliases a, s, c, m;
// `active_alerts` is the expression of the agent's active alert count.
std::string item_columns(const std::string& status, std::string_view active_alerts) {
  return "a.id::text, a.hostname, a.os, a.version, " + status +
         ", s.client_id::text, c.name, a.site_id::text, s.name, " + sql_us("a.last_seen") +
         ", m.cpu_percent::float8, " + kMemPercent + ", " + kDiskMax + ", " +
         std::string(active_alerts);
}

constexpr const char* kItemJoins =
    " FROM agents a LEFT JOIN sites s ON s.id = a.site_id"
    " LEFT JOIN clients c ON c.id = s.client_id"
    " LEFT JOIN agent_latest_metrics m ON m.agent_id = a.id ";

// The item's keys and value kinds, in the order of item_columns(): read by item_json() (one
// agent) and write_item() (the list), so the two cannot drift apart.
enum class Kind { kText, kTimeUs, kDouble, kInt };
struct ItemField {
  const char* key;
  Kind kind;
};
constexpr ItemField kItemFields[] = {
    {"id", Kind::kText},
    {"hostname", Kind::kText},
    {"os", Kind::kText},
    {"version", Kind::kText},
    {"status", Kind::kText},
    {"client_id", Kind::kText},
    {"client_name", Kind::kText},
    {"site_id", Kind::kText},
    {"site_name", Kind::kText},
    {"last_seen", Kind::kTimeUs},
    {"cpu_percent", Kind::kDouble},
    {"memory_percent", Kind::kDouble},
    {"disk_percent_max", Kind::kDouble},
    {"active_alerts", Kind::kInt},
};

boost::json::object item_json(const pqxx::row& r) {
  boost::json::object o;
  int i = 0;
  for (const auto& f : kItemFields) {
    const pqxx::field v = r[i++];
    switch (f.kind) {
      case Kind::kText:
        o.emplace(f.key, json_text(v));
        break;
      case Kind::kTimeUs:
        o.emplace(f.key, json_time_us(v));
        break;
      case Kind::kDouble:
        o.emplace(f.key, json_double(v));
        break;
      case Kind::kInt:
        o.emplace(f.key, json_int(v));
        break;
    }
  }
  return o;
}

void write_item(JsonWriter& w, const pqxx::row& r) {
  w.begin_object();
  int i = 0;
  for (const auto& f : kItemFields) {
    const pqxx::field v = r[i++];
    w.key(f.key);
    switch (f.kind) {
      case Kind::kText:
        write_text(w, v);
        break;
      case Kind::kTimeUs:
        write_time_us(w, v);
        break;
      case Kind::kDouble:
        write_double(w, v);
        break;
      case Kind::kInt:
        write_int(w, v);
        break;
    }
  }
  w.end_object();
}

struct SortKey {
  std::string name;
  std::string sql;   // the ordered expression (never NULL)
  std::string cast;  // of a cursor value
};

Result<std::pair<SortKey, bool>> sort_param(const Request& req) {
  std::string s = query_param(req, "sort").value_or("hostname");
  bool desc = s.starts_with('-');
  if (desc) s.erase(0, 1);
  if (s == "hostname") return std::pair{SortKey{s, "COALESCE(a.hostname, '')", "text"}, desc};
  if (s == "last_seen") {
    return std::pair{SortKey{s, "COALESCE(" + sql_us("a.last_seen") + ", 0)", "bigint"}, desc};
  }
  if (s == "cpu")
    return std::pair{SortKey{s, "COALESCE(m.cpu_percent::float8, -1)", "float8"}, desc};
  if (s == "memory") {
    return std::pair{SortKey{s, "COALESCE(" + std::string(kMemPercent) + ", -1)", "float8"}, desc};
  }
  if (s == "disk") {
    return std::pair{SortKey{s, "COALESCE(" + std::string(kDiskMax) + ", -1)", "float8"}, desc};
  }
  return fail(Error::Code::kInvalidInput,
              "sort must be hostname, last_seen, cpu, memory or disk (optionally prefixed with -)");
}

std::string json_scalar_text(const boost::json::value& v) {
  if (v.is_string()) return std::string(v.as_string());
  if (v.is_int64()) return std::to_string(v.as_int64());
  if (v.is_uint64()) return std::to_string(v.as_uint64());
  if (v.is_double()) return boost::json::serialize(v);
  return {};
}

}  // namespace

Response ReadRoutes::agents(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_statement(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto limit = limit_param(req);
    if (!limit) return std::unexpected(limit.error());
    auto sort = sort_param(req);
    if (!sort) return std::unexpected(sort.error());
    auto cursor = cursor_param(req);
    if (!cursor) return std::unexpected(cursor.error());
    auto client = uuid_param(req, "client_id");
    if (!client) return std::unexpected(client.error());
    auto site = uuid_param(req, "site_id");
    if (!site) return std::unexpected(site.error());
    const auto& [key, desc] = *sort;

    SqlParams p;
    std::string status = status_sql(p);
    std::string where = " WHERE " + pr.visible_sql(p, "s.client_id", "a.site_id");
    if (*client) where += " AND s.client_id = " + p.bind(**client) + "::uuid";
    if (*site) where += " AND a.site_id = " + p.bind(**site) + "::uuid";
    if (auto st = query_param(req, "status")) {
      if (*st != "online" && *st != "offline" && *st != "revoked") {
        return fail(Error::Code::kInvalidInput, "status must be online, offline or revoked");
      }
      where += " AND " + status + " = " + p.bind(*st);
    }
    if (auto os = query_param(req, "os")) where += " AND a.os = " + p.bind(*os);
    if (auto q = query_param(req, "q"); q && !q->empty()) {
      if (q->size() > 256) return fail(Error::Code::kInvalidInput, "q is too long");
      std::string pattern = "%";
      for (char c : *q) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
      }
      pattern += '%';
      where += " AND a.hostname ILIKE " + p.bind(pattern);
    }
    if (*cursor) {
      const auto& cur = **cursor;
      if (cur.size() != 2 || json_scalar_text(cur[0]).empty() || !cur[1].is_string() ||
          !uuid_from_string(std::string_view(cur[1].as_string()))) {
        return fail(Error::Code::kInvalidInput, "malformed cursor");
      }
      where += " AND (" + key.sql + ", a.id) " + (desc ? "<" : ">") + " (" +
               p.bind(json_scalar_text(cur[0])) + "::" + key.cast + ", " +
               p.bind(std::string(cur[1].as_string())) + "::uuid)";
    }
    const char* dir = desc ? " DESC" : "";
    // The page is chosen on narrow rows first (ids and the sort key), then only its rows are
    // joined with the wide ones (metrics jsonb, names): 10,000 agents stay a few milliseconds.
    // Active alerts are counted for the page's agents in one pass, not by a subquery per row
    // (which was half of the statement's time for a page of 500). The text depends only on the
    // filters present, the sort and the limit, so it is a prepared statement: after its first
    // runs on a connection PostgreSQL reuses one plan instead of planning every request (the
    // limit stays in the text: as a parameter the generic plan's guessed row count made
    // PostgreSQL keep planning each run).
    const bool needs_metrics = key.name == "cpu" || key.name == "memory" || key.name == "disk";
    std::string sql =
        "WITH p AS (SELECT a.id AS pid, " + key.sql +
        " AS pkey FROM agents a LEFT JOIN sites s ON s.id = a.site_id" +
        (needs_metrics ? " LEFT JOIN agent_latest_metrics m ON m.agent_id = a.id" : "") + where +
        " ORDER BY pkey" + dir + ", a.id" + dir + " LIMIT " + std::to_string(*limit + 1) +
        ") SELECT " + item_columns(status, "COALESCE(ac.n, 0)") +
        ", p.pkey FROM p JOIN agents a ON a.id = p.pid LEFT JOIN sites s ON s.id = a.site_id"
        " LEFT JOIN clients c ON c.id = s.client_id"
        " LEFT JOIN agent_latest_metrics m ON m.agent_id = a.id"
        " LEFT JOIN (SELECT al.agent_id, count(*) AS n FROM alerts al WHERE al.status = 'active'"
        " AND al.agent_id IN (SELECT pid FROM p) GROUP BY al.agent_id) ac ON ac.agent_id = a.id"
        " ORDER BY p.pkey" +
        dir + ", a.id" + dir;
    pqxx::result rows;
    try {
      rows = p.exec_prepared(tx, sql);
    } catch (const pqxx::data_exception&) {
      return fail(Error::Code::kInvalidInput, "malformed cursor");  // a cast of a forged cursor
    }
    // Written as JSON text row by row: a boost::json document of the page was most of
    // rmm-api's own time per request.
    const auto page = std::min(rows.size(), static_cast<std::size_t>(*limit));
    std::string body;
    body.reserve(page * 512 + 128);
    JsonWriter w(body);
    w.begin_object();
    w.key("items");
    w.begin_array();
    for (std::size_t i = 0; i < page; ++i) write_item(w, rows[i]);
    w.end_array();
    w.key("next_cursor");
    if (rows.size() > page) {
      const pqxx::row last = rows[page - 1];
      boost::json::array k;
      if (key.cast == "text") {
        k.emplace_back(last[14].c_str());
      } else if (key.cast == "bigint") {
        k.emplace_back(last[14].as<std::int64_t>());
      } else {
        k.emplace_back(last[14].as<double>());
      }
      k.emplace_back(last[0].c_str());
      w.string(encode_cursor(k));
    } else {
      w.null();
    }
    w.end_object();
    return json_text_response(req, std::move(body));
  });
}

Response ReadRoutes::agent(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    SqlParams p;
    std::string status = status_sql(p);
    std::string sql = "SELECT " + item_columns(status, kActiveAlerts) +
                      ", (SELECT to_jsonb(i) - 'agent_id' FROM agent_inventory i"
                      "    WHERE i.agent_id = a.id)"
                      ", to_jsonb(m) - 'agent_id'"
                      ", (SELECT pr.processes FROM agent_processes pr WHERE pr.agent_id = a.id)" +
                      kItemJoins + " WHERE a.id = " + p.bind(*id) + "::uuid AND " +
                      pr.visible_sql(p, "s.client_id", "a.site_id");
    auto rows = p.exec(tx, sql);
    if (rows.empty()) return fail(Error::Code::kNotFound, "agent");
    auto out = item_json(rows[0]);
    out["inventory"] = json_doc(rows[0][14]);
    out["latest_metrics"] = json_doc(rows[0][15]);
    out["processes"] = json_doc(rows[0][16]);

    auto alerts = tx.exec_params("SELECT " + alert_columns() +
                                     " FROM alerts al LEFT JOIN agents a ON a.id = al.agent_id"
                                     " WHERE al.agent_id = $1::uuid AND al.status = 'active'"
                                     " ORDER BY al.raised_at DESC LIMIT 100",
                                 *id);
    boost::json::array al;
    for (const auto& r : alerts) al.push_back(alert_json(r));
    out["alerts"] = std::move(al);
    out["recent_commands"] = command_items(tx, *id, 20, std::nullopt).first;
    return json_response(req, out);
  });
}

Response ReadRoutes::agent_commands(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    auto limit = limit_param(req);
    if (!limit) return std::unexpected(limit.error());
    auto cursor = cursor_param(req);
    if (!cursor) return std::unexpected(cursor.error());
    if (!agent_visible(tx, pr, *id)) return fail(Error::Code::kNotFound, "agent");
    std::optional<std::pair<std::int64_t, std::string>> after;
    if (*cursor) {
      const auto& c = **cursor;
      if (c.size() != 2 || !c[0].is_int64() || !c[1].is_string() ||
          !uuid_from_string(std::string_view(c[1].as_string()))) {
        return fail(Error::Code::kInvalidInput, "malformed cursor");
      }
      after = std::pair{c[0].as_int64(), std::string(c[1].as_string())};
    }
    auto [items, next] = command_items(tx, *id, *limit, after);
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  });
}

Response ReadRoutes::agent_effective_policy(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    if (!agent_visible(tx, pr, *id)) return fail(Error::Code::kNotFound, "agent");
    auto rows =
        tx.exec_params("SELECT key, value, source_scope, source_id::text, " +
                           entity_name_sql("source_scope", "source_id::text") +
                           " FROM effective_policies WHERE agent_id = $1::uuid ORDER BY key",
                       *id);
    boost::json::object settings;
    for (const auto& r : rows) {
      settings[r[0].c_str()] = boost::json::object{{"value", json_text(r[1])},
                                                   {"source_scope", json_text(r[2])},
                                                   {"source_id", json_text(r[3])},
                                                   {"source_name", json_text(r[4])}};
    }
    return json_response(req,
                         boost::json::object{{"agent_id", *id}, {"settings", std::move(settings)}});
  });
}

}  // namespace rmm::api
