// GET /healthz: 200 when PostgreSQL answers `SELECT 1` and the NATS connection is up, else 503
// naming what failed. The body is the same shape either way:
//   {"status":"ok"|"degraded","postgres":"ok"|"unavailable","nats":"ok"|"unavailable"}
#pragma once

#include "api/db/pg_pool.h"
#include "api/nats/nats_link.h"
#include "api/server/http.h"

namespace rmm::api {

class HealthRoute {
 public:
  HealthRoute(PgPool& pg, const NatsLink& nats) : pg_(pg), nats_(nats) {}
  // Blocking (queries PostgreSQL): call from the worker pool.
  Response get(const Request& req, const RequestContext& ctx);

 private:
  bool postgres_ok(const RequestContext& ctx);

  PgPool& pg_;
  const NatsLink& nats_;
};

}  // namespace rmm::api
