// Every read route of docs/api.md ("Reads"), answered from the read models through the read-only
// pool and filtered by the caller's scopes (api/auth/principal.h): anything outside them is 404,
// and lists never hold it.
//
// Lists page with keyset cursors (opaque, `next_cursor`), so a page costs the same at any depth.
// Bad query parameters are 400 problems naming the parameter; a malformed path id is 404.
//
// Concurrency: thread-safe; every handler blocks on PostgreSQL (worker pool only).
#pragma once

#include <chrono>
#include <functional>
#include <pqxx/pqxx>

#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "api/server/router.h"
#include "common/clock.h"
#include "common/result.h"

namespace rmm::api {

struct ReadOptions {
  std::chrono::milliseconds offline_after{90'000};
  // Raw metrics are kept this long (the projector's retention); older ranges read hourly rollups.
  std::chrono::hours raw_metrics_retention{24 * 30};
};

class ReadRoutes {
 public:
  ReadRoutes(PgPool& pg, const Clock& clock, ReadOptions options)
      : pg_(pg), clock_(clock), options_(options) {}

  // Adds every read route to `router` (signed in; dead letters and users for admins).
  void register_routes(Router& router);

  Response overview(const Request& req, const RequestContext& ctx);
  Response agents(const Request& req, const RequestContext& ctx);
  Response agent(const Request& req, const RequestContext& ctx);
  Response agent_metrics(const Request& req, const RequestContext& ctx);
  Response agent_commands(const Request& req, const RequestContext& ctx);
  Response agent_effective_policy(const Request& req, const RequestContext& ctx);
  Response command(const Request& req, const RequestContext& ctx);
  // read_batches.cc (issue 18: bulk work)
  Response command_batch(const Request& req, const RequestContext& ctx);
  Response alerts(const Request& req, const RequestContext& ctx);
  Response clients(const Request& req, const RequestContext& ctx);
  Response client(const Request& req, const RequestContext& ctx);
  Response site(const Request& req, const RequestContext& ctx);
  Response policies(const Request& req, const RequestContext& ctx);
  Response enrollment_codes(const Request& req, const RequestContext& ctx);
  Response audit(const Request& req, const RequestContext& ctx);
  Response audit_csv(const Request& req, const RequestContext& ctx);
  Response dead_letters(const Request& req, const RequestContext& ctx);
  Response users(const Request& req, const RequestContext& ctx);
  // read_releases.cc (docs/updates.md)
  Response releases(const Request& req, const RequestContext& ctx);
  Response rollouts(const Request& req, const RequestContext& ctx);
  Response rollout(const Request& req, const RequestContext& ctx);
  Response agent_updates(const Request& req, const RequestContext& ctx);

 private:
  using Body = std::function<Result<Response>(pqxx::transaction_base& tx)>;
  // Runs `body` in a read transaction on a pooled connection; errors become problems.
  Response with_tx(const Request& req, const RequestContext& ctx, const Body& body);
  // The same for a body that runs a single statement: outside an explicit transaction (one
  // statement reads one snapshot anyway), which saves the BEGIN and COMMIT round trips.
  Response with_statement(const Request& req, const RequestContext& ctx, const Body& body);
  // GET /commands/{id} once, without waiting for a command not projected yet.
  Response command_once(const Request& req, const RequestContext& ctx);
  // SQL of an agent's status ('online' | 'offline' | 'revoked') for agents alias `a`, binding
  // the online threshold into `p`.
  std::string status_sql(class SqlParams& p) const;

  PgPool& pg_;
  const Clock& clock_;
  ReadOptions options_;
};

}  // namespace rmm::api
