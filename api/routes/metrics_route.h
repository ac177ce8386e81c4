// GET /metrics: the Prometheus text exposition of rmm-api (docs/operations.md "Metrics").
//
// Counts only: requests by route pattern and status class, latencies, and the number of enrolled
// and online agents over all tenants (no names or ids), so the route is public like /healthz; the
// listener is on 127.0.0.1 unless listen-host says otherwise. The agent counts come from the read
// models at most every `refresh` (one small query), so scrapes stay cheap; when PostgreSQL does
// not answer, the last counts stay and rmm_api_read_models_up is 0.
//
// Concurrency: get() is thread-safe (called from the worker pool).
#pragma once

#include <chrono>
#include <mutex>

#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/clock.h"
#include "common/metrics.h"

namespace rmm::api {

class MetricsRoute {
 public:
  MetricsRoute(PgPool& pg, const Clock& clock, std::chrono::milliseconds offline_after,
               metrics::Registry& registry,
               std::chrono::milliseconds refresh = std::chrono::seconds(10));
  Response get(const Request& req, const RequestContext& ctx);

 private:
  void refresh_agent_counts();

  PgPool& pg_;
  const Clock& clock_;
  const std::chrono::milliseconds offline_after_;
  metrics::Registry& registry_;
  const std::chrono::milliseconds refresh_;
  std::mutex mu_;  // one refresh at a time
  std::chrono::steady_clock::time_point next_refresh_{};
};

}  // namespace rmm::api
