#include "api/routes/read_routes.h"

#include "api/db/sql_params.h"
#include "api/routes/json_reply.h"

namespace rmm::api {

void ReadRoutes::register_routes(Router& router) {
  using R = Response (ReadRoutes::*)(const Request&, const RequestContext&);
  auto add = [&](std::string path, Access access, R method) {
    router.add(http::verb::get, std::move(path), access,
               [this, method](const Request& req, const RequestContext& ctx) {
                 return (this->*method)(req, ctx);
               });
  };
  const Access user = Access::signed_in();
  const Access admin = Access::role(schema::UserRole::Admin);
  add("/api/v1/overview", user, &ReadRoutes::overview);
  add("/api/v1/agents", user, &ReadRoutes::agents);
  add("/api/v1/agents/{id}", user, &ReadRoutes::agent);
  add("/api/v1/agents/{id}/metrics", user, &ReadRoutes::agent_metrics);
  add("/api/v1/agents/{id}/commands", user, &ReadRoutes::agent_commands);
  add("/api/v1/agents/{id}/effective-policy", user, &ReadRoutes::agent_effective_policy);
  add("/api/v1/commands/{id}", user, &ReadRoutes::command);
  add("/api/v1/command-batches/{id}", user, &ReadRoutes::command_batch);
  add("/api/v1/alerts", user, &ReadRoutes::alerts);
  add("/api/v1/clients", user, &ReadRoutes::clients);
  add("/api/v1/clients/{id}", user, &ReadRoutes::client);
  add("/api/v1/sites/{id}", user, &ReadRoutes::site);
  add("/api/v1/policies", user, &ReadRoutes::policies);
  add("/api/v1/enrollment-codes", user, &ReadRoutes::enrollment_codes);
  add("/api/v1/audit", user, &ReadRoutes::audit);
  add("/api/v1/audit.csv", user, &ReadRoutes::audit_csv);
  add("/api/v1/dead-letters", admin, &ReadRoutes::dead_letters);
  add("/api/v1/users", admin, &ReadRoutes::users);
  add("/api/v1/releases", user, &ReadRoutes::releases);
  add("/api/v1/rollouts", user, &ReadRoutes::rollouts);
  add("/api/v1/rollouts/{id}", user, &ReadRoutes::rollout);
  add("/api/v1/agents/{id}/updates", user, &ReadRoutes::agent_updates);
}

namespace {

// A read: safe to repeat on a new connection when PostgreSQL dropped the first one. Any other
// exception reaches the router, which logs it with the correlation id and answers a 500.
template <class Tx, class Body>
Response run_read(PgPool& pg, const Request& req, const RequestContext& ctx, const Body& body) {
  auto res = pg.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
    Tx tx(c);
    Result<Response> r = body(tx);
    tx.commit();
    return r;
  });
  if (!res) return read_problem(res.error(), req, ctx);
  return std::move(*res);
}

}  // namespace

Response ReadRoutes::with_tx(const Request& req, const RequestContext& ctx, const Body& body) {
  return run_read<pqxx::read_transaction>(pg_, req, ctx, body);
}

Response ReadRoutes::with_statement(const Request& req, const RequestContext& ctx,
                                    const Body& body) {
  return run_read<pqxx::nontransaction>(pg_, req, ctx, body);
}

std::string ReadRoutes::status_sql(SqlParams& p) const {
  const UnixNanos threshold =
      clock_.now() -
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.offline_after).count();
  return "(CASE WHEN a.revoked_at IS NOT NULL THEN 'revoked' WHEN a.last_seen >= to_timestamp(" +
         p.bind(std::to_string(static_cast<double>(threshold) / 1e9)) +
         "::double precision) THEN 'online' ELSE 'offline' END)";
}

}  // namespace rmm::api
