// GET /api/v1/agents: every agent of the `agents` read model, ordered by hostname, id.
//
//   {"agents":[{"id":"0190...","hostname":"web-1","os":"linux","version":"0.1.0",
//               "first_seen":"2026-01-02T03:04:05.678Z","last_seen":"...","last_seq":42,
//               "status":"online"}]}
//
// `status` is "online" when last_seen is no older than `offline_after` by the injected clock.
// Columns that are NULL come back as JSON null.
//
// Concurrency: get() is blocking (PostgreSQL) and thread-safe; call it from the worker pool.
// Limitations: no pagination or filtering yet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/clock.h"

namespace rmm::api {

class AgentsRoute {
 public:
  AgentsRoute(PgPool& pg, const Clock& clock, std::chrono::milliseconds offline_after)
      : pg_(pg), clock_(clock), offline_after_(offline_after) {}

  Response get(const Request& req, const RequestContext& ctx);

 private:
  PgPool& pg_;
  const Clock& clock_;
  std::chrono::milliseconds offline_after_;
};

// Unix microseconds -> RFC 3339 UTC with milliseconds: "2026-01-02T03:04:05.678Z".
std::string format_rfc3339_utc(std::int64_t unix_micros);

}  // namespace rmm::api
