#include "api/routes/health.h"

#include <boost/json.hpp>
#include <pqxx/transaction>

#include "common/log.h"

namespace rmm::api {

bool HealthRoute::postgres_ok(const RequestContext& ctx) {
  Result<bool> ok = fail("not run");
  try {
    ok = pg_.run(PgPool::Retry::kOnce, [](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      return tx.exec1("SELECT 1")[0].as<int>() == 1;
    });
  } catch (const std::exception& e) {
    ok = fail(e.what());
  }
  if (!ok) {
    log::warn("healthz.postgres",
              {{"correlation_id", ctx.correlation_id}, {"error", ok.error().message}});
    return false;
  }
  return *ok;
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
