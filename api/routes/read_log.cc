// GET /api/v1/commands/{id}, /alerts, /audit, /dead-letters, /users.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/principal.h"
#include "api/db/sql_params.h"
#include "api/problem.h"
#include "api/routes/json_reply.h"
#include "api/routes/read_common.h"
#include "api/routes/read_routes.h"
#include "api/server/query.h"

namespace rmm::api {
namespace {

constexpr const char* kAgentScopeJoin =
    " LEFT JOIN agents a ON a.id = {T}.agent_id LEFT JOIN sites s ON s.id = a.site_id ";

std::string agent_scope_join(std::string_view alias) {
  std::string out = kAgentScopeJoin;
  out.replace(out.find("{T}"), 3, alias);
  return out;
}

// A cursor of [int64] or [int64, uuid text].
Result<std::optional<boost::json::array>> int_cursor(const Request& req, bool with_id) {
  auto cursor = cursor_param(req);
  if (!cursor) return std::unexpected(cursor.error());
  if (!*cursor) return cursor;
  const auto& c = **cursor;
  bool ok = c.size() == (with_id ? 2u : 1u) && c[0].is_int64();
  if (ok && with_id) ok = c[1].is_string() && uuid_from_string(std::string_view(c[1].as_string()));
  if (!ok) return fail(Error::Code::kInvalidInput, "malformed cursor");
  return cursor;
}

}  // namespace

Response ReadRoutes::command(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    SqlParams p;
    std::string sql =
        "SELECT cm.id::text, cm.agent_id::text, cm.kind, cm.summary, cm.status, cm.issuer, " +
        sql_us("cm.issued_at") + ", " + sql_us("cm.received_at") + ", " + sql_us("cm.started_at") +
        ", " + sql_us("cm.finished_at") +
        ", cm.exit_code, cm.duration_ms, cm.reason, cm.stdout, cm.stderr, cm.stdout_truncated,"
        " cm.stderr_truncated, cm.impersonator, " +
        sql_us("cm.expires_at") + ", " + sql_us("cm.cancel_requested_at") + " FROM commands cm" +
        agent_scope_join("cm") + " WHERE cm.id = " + p.bind(*id) + "::uuid AND " +
        pr.visible_sql(p, "s.client_id", "a.site_id");
    auto rows = p.exec(tx, sql);
    if (rows.empty()) return fail(Error::Code::kNotFound, "command");
    const auto& r = rows[0];
    return json_response(req, boost::json::object{
                                  {"id", json_text(r[0])},
                                  {"agent_id", json_text(r[1])},
                                  {"kind", json_text(r[2])},
                                  {"summary", json_text(r[3])},
                                  {"status", json_text(r[4])},
                                  {"issuer", json_text(r[5])},
                                  {"issued_at", json_time_us(r[6])},
                                  {"received_at", json_time_us(r[7])},
                                  {"started_at", json_time_us(r[8])},
                                  {"finished_at", json_time_us(r[9])},
                                  {"exit_code", json_int(r[10])},
                                  {"duration_ms", json_int(r[11])},
                                  {"reason", json_text(r[12])},
                                  {"stdout", json_text(r[13])},
                                  {"stderr", json_text(r[14])},
                                  {"stdout_truncated", r[15].as<bool>()},
                                  {"stderr_truncated", r[16].as<bool>()},
                                  {"impersonator", json_text(r[17])},
                                  {"expires_at", json_time_us(r[18])},
                                  {"cancel_requested_at", json_time_us(r[19])},
                              });
  });
}

Response ReadRoutes::alerts(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto limit = limit_param(req);
    if (!limit) return std::unexpected(limit.error());
    auto cursor = int_cursor(req, true);
    if (!cursor) return std::unexpected(cursor.error());
    auto agent = uuid_param(req, "agent_id");
    if (!agent) return std::unexpected(agent.error());
    auto client = uuid_param(req, "client_id");
    if (!client) return std::unexpected(client.error());
    SqlParams p;
    std::string where = " WHERE " + pr.visible_sql(p, "s.client_id", "a.site_id");
    std::string status = query_param(req, "status").value_or("active");
    if (status == "active" || status == "resolved") {
      where += " AND al.status = " + p.bind(status);
    } else if (status != "all") {
      return fail(Error::Code::kInvalidInput, "status must be active, resolved or all");
    }
    if (auto sev = query_param(req, "severity")) {
      if (*sev != "info" && *sev != "warning" && *sev != "critical") {
        return fail(Error::Code::kInvalidInput, "severity must be info, warning or critical");
      }
      where += " AND al.severity = " + p.bind(*sev);
    }
    if (*agent) where += " AND al.agent_id = " + p.bind(**agent) + "::uuid";
    if (*client) where += " AND s.client_id = " + p.bind(**client) + "::uuid";
    const std::string time = sql_us("al.raised_at");
    if (*cursor) {
      const auto& c = **cursor;
      where += " AND (" + time + ", al.id) < (" + p.bind(std::to_string(c[0].as_int64())) +
               "::bigint, " + p.bind(std::string(c[1].as_string())) + "::uuid)";
    }
    std::string sql = "SELECT " + alert_columns() + ", " + time + " FROM alerts al" +
                      agent_scope_join("al") + where + " ORDER BY al.raised_at DESC, al.id DESC" +
                      " LIMIT " + std::to_string(*limit + 1);
    auto [items, next] = page_of(p.exec(tx, sql), *limit, alert_json, [](const pqxx::row& last) {
      return boost::json::array{last[17].as<std::int64_t>(), boost::json::string(last[0].c_str())};
    });
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  });
}

Response ReadRoutes::audit(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto limit = limit_param(req);
    if (!limit) return std::unexpected(limit.error());
    auto cursor = int_cursor(req, false);
    if (!cursor) return std::unexpected(cursor.error());
    auto client = uuid_param(req, "client_id");
    if (!client) return std::unexpected(client.error());
    SqlParams p;
    std::string where = " WHERE " + pr.visible_sql(p, "l.client_id", "l.site_id");
    if (*client) where += " AND l.client_id = " + p.bind(**client) + "::uuid";
    if (auto actor = query_param(req, "actor")) {
      where += " AND (l.actor = " + p.bind(*actor) + " OR l.impersonator = " + p.bind(*actor) + ")";
    }
    if (*cursor) {
      where +=
          " AND l.stream_seq < " + p.bind(std::to_string((**cursor)[0].as_int64())) + "::bigint";
    }
    auto rows =
        p.exec(tx, "SELECT l.stream_seq, " + sql_us("l.occurred_at") +
                       ", l.actor, l.impersonator, l.action, l.target_kind, l.target_id,"
                       " l.detail::text, l.client_id::text, l.site_id::text"
                       " FROM audit_log l" +
                       where + " ORDER BY l.stream_seq DESC LIMIT " + std::to_string(*limit + 1));
    auto [items, next] = page_of(
        rows, *limit,
        [](const pqxx::row& r) {
          return boost::json::object{
              {"stream_seq", json_int(r[0])}, {"occurred_at", json_time_us(r[1])},
              {"actor", json_text(r[2])},     {"impersonator", json_text(r[3])},
              {"action", json_text(r[4])},    {"target_kind", json_text(r[5])},
              {"target_id", json_text(r[6])}, {"detail", json_doc(r[7])},
              {"client_id", json_text(r[8])}, {"site_id", json_text(r[9])},
          };
        },
        [](const pqxx::row& last) { return boost::json::array{last[0].as<std::int64_t>()}; });
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  });
}

Response ReadRoutes::dead_letters(const Request& req, const RequestContext& ctx) {
  // Dead letters are raw events of any tenant: only for admins with the whole partner.
  if (!ctx.principal->global()) {
    return make_problem(http::status::forbidden, "dead letters need a global admin", ctx,
                        req.version());
  }
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto limit = limit_param(req);
    if (!limit) return std::unexpected(limit.error());
    auto cursor = int_cursor(req, false);
    if (!cursor) return std::unexpected(cursor.error());
    SqlParams p;
    std::string where;
    if (*cursor) {
      where = " WHERE id < " + p.bind(std::to_string((**cursor)[0].as_int64())) + "::bigint";
    }
    auto rows = p.exec(tx, "SELECT id, stream_seq, subject, reason, " + sql_us("received_at") +
                               ", COALESCE(raw_size, length(raw), 0), projection "
                               "FROM dead_letters" +
                               where + " ORDER BY id DESC LIMIT " + std::to_string(*limit + 1));
    auto [items, next] = page_of(
        rows, *limit,
        [](const pqxx::row& r) {
          return boost::json::object{
              {"id", json_int(r[0])},
              {"stream_seq", json_int(r[1])},
              {"subject", json_text(r[2])},
              {"reason", json_text(r[3])},
              {"received_at", json_time_us(r[4])},
              {"size", json_int(r[5])},
              {"projection", json_text(r[6])},
          };
        },
        [](const pqxx::row& last) { return boost::json::array{last[0].as<std::int64_t>()}; });
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", std::move(next)}});
  });
}

Response ReadRoutes::users(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    SqlParams p;
    std::string where = " WHERE TRUE";
    if (!pr.global()) {
      // A scoped admin sees the users whose every grant lies inside the admin's own, and no
      // owner; a user without grants lies inside nobody's scope.
      std::string clients = p.bind(array_literal(pr.client_ids()));
      std::string sites = p.bind(array_literal(pr.site_ids()));
      where +=
          " AND u.role <> 'owner' AND EXISTS (SELECT 1 FROM user_scopes y WHERE y.user_id = u.id)"
          " AND NOT EXISTS (SELECT 1 FROM user_scopes x"
          " LEFT JOIN sites xs ON x.scope = 'site' AND xs.id = x.scope_id"
          " WHERE x.user_id = u.id AND NOT COALESCE("
          "(x.scope = 'client' AND x.scope_id = ANY(" +
          clients + "::uuid[])) OR (x.scope = 'site' AND (xs.client_id = ANY(" + clients +
          "::uuid[]) OR x.scope_id = ANY(" + sites + "::uuid[]))), false))";
    }
    auto rows = p.exec(tx,
                       "SELECT u.id::text, u.username, u.display_name, u.role, u.disabled,"
                       " COALESCE((SELECT json_agg(json_build_object('scope', x.scope, 'id',"
                       " x.scope_id) ORDER BY x.scope, x.scope_id) FROM user_scopes x"
                       " WHERE x.user_id = u.id), '[]')::text, " +
                           sql_us("u.created_at") + " FROM users u" + where +
                           " ORDER BY u.username LIMIT 1000");
    boost::json::array items;
    for (const auto& r : rows) {
      items.push_back(boost::json::object{
          {"id", json_text(r[0])},
          {"username", json_text(r[1])},
          {"display_name", json_text(r[2])},
          {"role", json_text(r[3])},
          {"disabled", r[4].as<bool>()},
          {"scopes", json_doc(r[5])},
          {"created_at", json_time_us(r[6])},
      });
    }
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
  });
}

}  // namespace rmm::api
