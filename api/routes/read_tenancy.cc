// GET /api/v1/clients, /clients/{id}, /sites/{id}, /policies, /enrollment-codes.
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

// Visible sites of client `client_col`, as a JSON array text.
std::string sites_json_sql(const Principal& pr, SqlParams& p, std::string_view client_col) {
  return "COALESCE((SELECT json_agg(json_build_object('id', ss.id, 'name', ss.name)"
         " ORDER BY ss.name, ss.id) FROM sites ss WHERE ss.client_id = " +
         std::string(client_col) + " AND ss.deleted_at IS NULL AND " +
         pr.visible_sql(p, "ss.client_id", "ss.id") + "), '[]')::text";
}

// Visible, not revoked agents of client `client_col` (or site `site_col` when not empty).
std::string agent_count_sql(const Principal& pr, SqlParams& p, std::string_view where) {
  return "(SELECT count(*) FROM agents ca JOIN sites cs ON cs.id = ca.site_id WHERE " +
         std::string(where) + " AND ca.revoked_at IS NULL AND " +
         pr.visible_sql(p, "cs.client_id", "ca.site_id") + ")";
}

}  // namespace

Response ReadRoutes::clients(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    SqlParams p;
    std::string sql = "SELECT c.id::text, c.name, " + sites_json_sql(pr, p, "c.id") + ", " +
                      agent_count_sql(pr, p, "cs.client_id = c.id") + ", " +
                      sql_us("c.created_at") + " FROM clients c WHERE c.deleted_at IS NULL AND " +
                      pr.visible_client_sql(p, "c.id") + " ORDER BY c.name, c.id LIMIT 5000";
    boost::json::array items;
    for (const auto& r : p.exec(tx, sql)) {
      items.push_back(boost::json::object{{"id", json_text(r[0])},
                                          {"name", json_text(r[1])},
                                          {"sites", json_doc(r[2])},
                                          {"agents", json_int(r[3])},
                                          {"created_at", json_time_us(r[4])}});
    }
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
  });
}

Response ReadRoutes::client(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    SqlParams p;
    std::string sql = "SELECT c.id::text, c.name, " + sites_json_sql(pr, p, "c.id") + ", " +
                      agent_count_sql(pr, p, "cs.client_id = c.id") + ", " +
                      sql_us("c.created_at") + ", c.created_by, " + actor_name_sql("c.created_by") +
                      " FROM clients c WHERE c.deleted_at IS NULL AND c.id = " + p.bind(*id) +
                      "::uuid AND " + pr.visible_client_sql(p, "c.id");
    auto rows = p.exec(tx, sql);
    if (rows.empty()) return fail(Error::Code::kNotFound, "client");
    const auto& r = rows[0];
    return json_response(req, boost::json::object{{"id", json_text(r[0])},
                                                  {"name", json_text(r[1])},
                                                  {"sites", json_doc(r[2])},
                                                  {"agents", json_int(r[3])},
                                                  {"created_at", json_time_us(r[4])},
                                                  {"created_by", json_text(r[5])},
                                                  {"created_by_name", json_text(r[6])}});
  });
}

Response ReadRoutes::site(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    SqlParams p;
    std::string sql = "SELECT s.id::text, s.name, s.client_id::text, c.name, " +
                      agent_count_sql(pr, p, "ca.site_id = s.id") + ", " + sql_us("s.created_at") +
                      ", s.created_by, " + actor_name_sql("s.created_by") +
                      " FROM sites s JOIN clients c ON c.id = s.client_id"
                      " WHERE s.deleted_at IS NULL AND c.deleted_at IS NULL AND s.id = " +
                      p.bind(*id) + "::uuid AND " + pr.visible_sql(p, "s.client_id", "s.id");
    auto rows = p.exec(tx, sql);
    if (rows.empty()) return fail(Error::Code::kNotFound, "site");
    const auto& r = rows[0];
    return json_response(req, boost::json::object{{"id", json_text(r[0])},
                                                  {"name", json_text(r[1])},
                                                  {"client_id", json_text(r[2])},
                                                  {"client_name", json_text(r[3])},
                                                  {"agents", json_int(r[4])},
                                                  {"created_at", json_time_us(r[5])},
                                                  {"created_by", json_text(r[6])},
                                                  {"created_by_name", json_text(r[7])}});
  });
}

Response ReadRoutes::policies(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto scope_id = uuid_param(req, "scope_id");
    if (!scope_id) return std::unexpected(scope_id.error());
    SqlParams p;
    // The global policy applies to everyone's agents, so everyone may read it.
    std::string where =
        " WHERE (po.scope = 'global' OR (po.scope = 'client' AND " +
        pr.visible_client_sql(p, "po.scope_id") +
        ") OR (po.scope = 'site' AND EXISTS (SELECT 1 FROM sites s WHERE s.id = po.scope_id AND " +
        pr.visible_sql(p, "s.client_id", "s.id") + ")) OR (po.scope = 'agent' AND " +
        pr.visible_agent_sql(p, "po.scope_id") + "))";
    if (auto scope = query_param(req, "scope")) {
      if (!codec::scope_from_name(*scope)) {
        return fail(Error::Code::kInvalidInput, "scope must be global, client, site or agent");
      }
      where += " AND po.scope = " + p.bind(*scope);
    }
    if (*scope_id) where += " AND po.scope_id = " + p.bind(**scope_id) + "::uuid";
    auto rows =
        p.exec(tx, "SELECT po.scope, po.scope_id::text, po.settings::text, po.set_by, " +
                       sql_us("po.set_at") + ", " + actor_name_sql("po.set_by") + ", " +
                       entity_name_sql("po.scope", "po.scope_id::text") + " FROM policies po" +
                       where + " ORDER BY po.scope, po.scope_id LIMIT 5000");
    boost::json::array items;
    for (const auto& r : rows) {
      items.push_back(boost::json::object{{"scope", json_text(r[0])},
                                          {"scope_id", json_text(r[1])},
                                          {"settings", json_doc(r[2])},
                                          {"set_by", json_text(r[3])},
                                          {"set_at", json_time_us(r[4])},
                                          {"set_by_name", json_text(r[5])},
                                          {"scope_name", json_text(r[6])}});
    }
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
  });
}

Response ReadRoutes::enrollment_codes(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto site = uuid_param(req, "site_id");
    if (!site) return std::unexpected(site.error());
    SqlParams p;
    std::string where = " WHERE " + pr.visible_sql(p, "s.client_id", "s.id");
    if (*site) where += " AND e.site_id = " + p.bind(**site) + "::uuid";
    // Never the code (only its hash is stored anyway).
    auto rows =
        p.exec(tx, "SELECT e.id::text, e.site_id::text, " + sql_us("e.expires_at") +
                       ", e.revoked, e.created_by, " + sql_us("e.created_at") + ", " +
                       sql_us("e.revoked_at") + ", e.revoked_by, " +
                       actor_name_sql("e.created_by") + ", " + actor_name_sql("e.revoked_by") +
                       ", s.name, s.client_id::text, (SELECT ec.name FROM clients ec WHERE"
                       " ec.id = s.client_id) FROM enrollment_codes e JOIN sites s ON"
                       " s.id = e.site_id" +
                       where + " ORDER BY e.created_at DESC, e.id DESC LIMIT 5000");
    boost::json::array items;
    for (const auto& r : rows) {
      items.push_back(boost::json::object{{"id", json_text(r[0])},
                                          {"site_id", json_text(r[1])},
                                          {"expires_at", json_time_us(r[2])},
                                          {"revoked", r[3].as<bool>()},
                                          {"created_by", json_text(r[4])},
                                          {"created_at", json_time_us(r[5])},
                                          {"revoked_at", json_time_us(r[6])},
                                          {"revoked_by", json_text(r[7])},
                                          {"created_by_name", json_text(r[8])},
                                          {"revoked_by_name", json_text(r[9])},
                                          {"site_name", json_text(r[10])},
                                          {"client_id", json_text(r[11])},
                                          {"client_name", json_text(r[12])}});
    }
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
  });
}

}  // namespace rmm::api
