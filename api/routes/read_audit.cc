// GET /api/v1/audit and /api/v1/audit.csv: the audit log with names next to ids, filtered by
// client, site, actor, action, target and time range (the same filters for both).
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/principal.h"
#include "api/db/sql_params.h"
#include "api/routes/agents.h"
#include "api/routes/csv.h"
#include "api/routes/json_reply.h"
#include "api/routes/read_common.h"
#include "api/routes/read_routes.h"
#include "api/server/query.h"

namespace rmm::api {
namespace {

constexpr int kCsvMaxRows = 100'000;
constexpr std::size_t kMaxFilterChars = 200;

// The WHERE clause of the audit filters (docs/api.md, "Audit log"), binding into `p`.
Result<std::string> audit_where(const Request& req, const Principal& pr, SqlParams& p) {
  std::string where = " WHERE " + pr.visible_sql(p, "l.client_id", "l.site_id");
  for (const char* name : {"client_id", "site_id"}) {
    auto id = uuid_param(req, name);
    if (!id) return std::unexpected(id.error());
    if (*id) where += std::string(" AND l.") + name + " = " + p.bind(**id) + "::uuid";
  }
  auto text = [&](const char* name) -> Result<std::optional<std::string>> {
    auto v = query_param(req, name);
    if (!v || v->empty()) return std::optional<std::string>{};
    if (v->size() > kMaxFilterChars) {
      return fail(Error::Code::kInvalidInput, std::string(name) + " is too long");
    }
    return v;
  };
  auto actor = text("actor");
  if (!actor) return std::unexpected(actor.error());
  if (*actor) {
    // The actor text itself (user:<id>, a service), or a user's username or display name.
    const std::string a = p.bind(**actor);
    where += " AND (l.actor = " + a + " OR l.impersonator = " + a +
             " OR l.actor IN (SELECT 'user:' || fu.id::text FROM users fu WHERE"
             " lower(fu.username) = lower(" +
             a + ") OR lower(fu.display_name) = lower(" + a + ")))";
  }
  for (const char* name : {"action", "target_kind", "target_id"}) {
    auto v = text(name);
    if (!v) return std::unexpected(v.error());
    if (*v) where += std::string(" AND l.") + name + " = " + p.bind(**v);
  }
  for (const auto& [name, op] : {std::pair{"since", ">="}, std::pair{"until", "<"}}) {
    auto v = query_param(req, name);
    if (!v || v->empty()) continue;
    auto us = parse_rfc3339_us(*v);
    if (!us) {
      return fail(Error::Code::kInvalidInput,
                  std::string(name) + " must be an RFC 3339 time (2026-01-31T12:00:00Z)");
    }
    where += " AND l.occurred_at " + std::string(op) + " to_timestamp(" +
             p.bind(std::to_string(static_cast<double>(*us) / 1e6)) + "::double precision)";
  }
  return where;
}

// The columns both answers read, in this order.
std::string audit_columns() {
  return "l.stream_seq, " + sql_us("l.occurred_at") +
         ", l.actor, l.impersonator, l.action, l.target_kind, l.target_id,"
         " l.detail::text, l.client_id::text, l.site_id::text, " +
         actor_name_sql("l.actor") + ", " + actor_name_sql("l.impersonator") +
         ", CASE WHEN l.target_kind = 'policy' THEN " +
         entity_name_sql("split_part(l.target_id, ':', 1)", "split_part(l.target_id, ':', 2)") +
         " ELSE " + entity_name_sql("l.target_kind", "l.target_id") +
         " END, (SELECT ac.name FROM clients ac WHERE ac.id = l.client_id),"
         " (SELECT asi.name FROM sites asi WHERE asi.id = l.site_id), mv.site_id::text,"
         " (SELECT msi.name FROM sites msi WHERE msi.id = mv.site_id)"
         " FROM audit_log l" +
         // A re-enrollment into another site of the client moved the agent: the site of its
         // previous enrollment (audit_log_target, migration 0020).
         std::string(
             " LEFT JOIN LATERAL (SELECT p.site_id FROM audit_log p"
             " WHERE l.action = 'agent_enrolled' AND p.target_id = l.target_id"
             " AND p.target_kind = 'agent' AND p.action = 'agent_enrolled'"
             " AND p.stream_seq < l.stream_seq ORDER BY p.stream_seq DESC LIMIT 1) mv"
             " ON mv.site_id IS DISTINCT FROM l.site_id");
}

std::string text_or_empty(const pqxx::field& f) {
  return f.is_null() ? std::string() : f.c_str();
}

}  // namespace

Response ReadRoutes::audit(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto limit = limit_param(req);
    if (!limit) return std::unexpected(limit.error());
    auto cursor = cursor_param(req);
    if (!cursor) return std::unexpected(cursor.error());
    if (*cursor && ((**cursor).size() != 1 || !(**cursor)[0].is_int64())) {
      return fail(Error::Code::kInvalidInput, "malformed cursor");
    }
    SqlParams p;
    auto where = audit_where(req, pr, p);
    if (!where) return std::unexpected(where.error());
    if (*cursor) {
      *where +=
          " AND l.stream_seq < " + p.bind(std::to_string((**cursor)[0].as_int64())) + "::bigint";
    }
    auto rows = p.exec(tx, "SELECT " + audit_columns() + *where +
                               " ORDER BY l.stream_seq DESC LIMIT " + std::to_string(*limit + 1));
    auto [items, next] = page_of(
        rows, *limit,
        [](const pqxx::row& r) {
          return boost::json::object{
              {"stream_seq", json_int(r[0])},
              {"occurred_at", json_time_us(r[1])},
              {"actor", json_text(r[2])},
              {"impersonator", json_text(r[3])},
              {"action", json_text(r[4])},
              {"target_kind", json_text(r[5])},
              {"target_id", json_text(r[6])},
              {"detail", json_doc(r[7])},
              {"client_id", json_text(r[8])},
              {"site_id", json_text(r[9])},
              {"actor_name", json_text(r[10])},
              {"impersonator_name", json_text(r[11])},
              {"target_name", json_text(r[12])},
              {"client_name", json_text(r[13])},
              {"site_name", json_text(r[14])},
              {"moved_from_site_id", json_text(r[15])},
              {"moved_from_site_name", json_text(r[16])},
          };
        },
        [](const pqxx::row& last) { return boost::json::array{last[0].as<std::int64_t>()}; });
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  });
}

Response ReadRoutes::audit_csv(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    SqlParams p;
    auto where = audit_where(req, pr, p);
    if (!where) return std::unexpected(where.error());
    auto rows = p.exec(tx, "SELECT " + audit_columns() + *where +
                               " ORDER BY l.stream_seq DESC LIMIT " + std::to_string(kCsvMaxRows));
    std::string body =
        csv_row({"occurred_at", "actor", "actor_name", "impersonator", "impersonator_name",
                 "action", "target_kind", "target_id", "target_name", "client_id", "client_name",
                 "site_id", "site_name", "detail", "stream_seq"});
    for (const auto& r : rows) {
      body += csv_row(
          {format_rfc3339_utc(r[1].as<std::int64_t>()), text_or_empty(r[2]), text_or_empty(r[10]),
           text_or_empty(r[3]), text_or_empty(r[11]), text_or_empty(r[4]), text_or_empty(r[5]),
           text_or_empty(r[6]), text_or_empty(r[12]), text_or_empty(r[8]), text_or_empty(r[13]),
           text_or_empty(r[9]), text_or_empty(r[14]), text_or_empty(r[7]), text_or_empty(r[0])});
    }
    Response res{http::status::ok, req.version()};
    res.set(http::field::content_type, "text/csv; charset=utf-8");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::content_disposition, "attachment; filename=\"audit.csv\"");
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  });
}

}  // namespace rmm::api
