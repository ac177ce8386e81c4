#include "api/routes/health.h"

#include <boost/json.hpp>
#include <pqxx/transaction>

#include "common/log.h"

namespace rmm::api {

bool HealthRoute::postgres_ok(const RequestContext& ctx) {
  auto lease = pg_.acquire();
  if (!lease) {
    log::warn("healthz.postgres",
              {{"correlation_id", ctx.correlation_id}, {"error", lease.error().message}});
    return false;
  }
  try {
    pqxx::read_transaction tx(lease->conn());
    auto row = tx.exec1("SELECT 1");
    return row[0].as<int>() == 1;
  } catch (const std::exception& e) {
    lease->discard();
    log::warn("healthz.postgres", {{"correlation_id", ctx.correlation_id}, {"error", e.what()}});
    return false;
  }
}

Response HealthRoute::get(const Request& req, const RequestContext& ctx) {
  bool pg = postgres_ok(ctx);
  bool nats = nats_.connected();
  boost::json::object body;
  body["status"] = pg && nats ? "ok" : "degraded";
  body["postgres"] = pg ? "ok" : "unavailable";
  body["nats"] = nats ? "ok" : "unavailable";
  Response res{pg && nats ? http::status::ok : http::status::service_unavailable, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

}  // namespace rmm::api
