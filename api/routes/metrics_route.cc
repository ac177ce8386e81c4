#include "api/routes/metrics_route.h"

#include <pqxx/transaction>

#include "common/log.h"

namespace rmm::api {

MetricsRoute::MetricsRoute(PgPool& pg, const Clock& clock, std::chrono::milliseconds offline_after,
                           metrics::Registry& registry, std::chrono::milliseconds refresh)
    : pg_(pg),
      clock_(clock),
      offline_after_(offline_after),
      registry_(registry),
      refresh_(refresh) {
  registry_.gauge("rmm_api_agents_enrolled", "Agents enrolled and not revoked (all tenants)");
  registry_.gauge("rmm_api_agents_online",
                  "Enrolled agents seen within offline-after (all tenants), as the API shows them");
  registry_.gauge("rmm_api_read_models_up",
                  "1 when the last agent count query succeeded, 0 when PostgreSQL did not answer");
}

void MetricsRoute::refresh_agent_counts() {
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now < next_refresh_) return;
  next_refresh_ = now + refresh_;
  // The same threshold as the agents list's status (ReadRoutes::status_sql).
  const double threshold =
      static_cast<double>(clock_.now() - std::chrono::nanoseconds(offline_after_).count()) / 1e9;
  Result<std::pair<std::int64_t, std::int64_t>> counts = fail("not run");
  try {
    counts = pg_.run(PgPool::Retry::kOnce, [threshold](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      auto row = tx.exec_params1(
          "SELECT count(*), count(*) FILTER (WHERE last_seen >= to_timestamp($1)) "
          "FROM agents WHERE revoked_at IS NULL",
          threshold);
      return std::pair{row[0].as<std::int64_t>(), row[1].as<std::int64_t>()};
    });
  } catch (const std::exception& e) {
    counts = fail(e.what());
  }
  if (!counts) {
    log::warn("metrics.agent_counts_failed", {{"error", counts.error().message}});
    registry_.set("rmm_api_read_models_up", 0);
    return;
  }
  registry_.set("rmm_api_agents_enrolled", static_cast<double>(counts->first));
  registry_.set("rmm_api_agents_online", static_cast<double>(counts->second));
  registry_.set("rmm_api_read_models_up", 1);
}

Response MetricsRoute::get(const Request& req, const RequestContext&) {
  refresh_agent_counts();
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.body() = registry_.render();
  res.prepare_payload();
  return res;
}

}  // namespace rmm::api
