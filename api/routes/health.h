// GET /healthz: 200 when PostgreSQL answers `SELECT 1` and the NATS connection is up, else 503
// naming what failed. The body is the same shape either way:
//   {"status":"ok"|"degraded","postgres":"ok"|"unavailable","nats":"ok"|"unavailable"}
#pragma once

#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/nats_connection.h"

namespace rmm::api {

class HealthRoute {
 public:
  HealthRoute(PgPool& pg, const nats::Connection& nats) : pg_(pg), nats_(nats) {}
  // Blocking (queries PostgreSQL): call from the worker pool.
  Response get(const Request& req, const RequestContext& ctx);

 private:
  bool postgres_ok(const RequestContext& ctx);

  PgPool& pg_;
  const nats::Connection& nats_;
};

}  // namespace rmm::api
