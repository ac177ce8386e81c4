// GET /healthz: 200 when PostgreSQL answers `SELECT 1` and the NATS connection is up, else 503
// naming what failed. The body is the same shape either way:
//   {"status":"ok"|"degraded","postgres":"ok"|"unavailable","nats":"ok"|"unavailable",
//    "stream_losses":N}
// stream_losses counts the unacknowledged records of events the stream deleted before the
// projector folded them (ops.stream_losses, docs/operations.md); read-only, informational (it does
// not change the status code: the API itself is fine), 0 when PostgreSQL does not answer.
#pragma once

#include <cstdint>
#include <optional>

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
  // The unacknowledged stream losses, or nullopt when PostgreSQL does not answer.
  std::optional<std::int64_t> postgres_ok(const RequestContext& ctx);

  PgPool& pg_;
  const nats::Connection& nats_;
};

}  // namespace rmm::api
