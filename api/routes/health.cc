#include "api/routes/health.h"

#include <boost/json.hpp>
#include <pqxx/transaction>

#include "common/log.h"

namespace rmm::api {

std::optional<std::int64_t> HealthRoute::postgres_ok(const RequestContext& ctx) {
  Result<std::int64_t> open_losses = fail("not run");
  try {
    open_losses = pg_.run(PgPool::Retry::kOnce, [](pqxx::connection& c) -> std::int64_t {
      pqxx::read_transaction tx(c);
      // The table comes with the projector's migration 0009: absent until it ran.
      if (tx.exec1("SELECT to_regclass('ops.stream_losses') IS NULL")[0].as<bool>()) return 0;
      return tx.exec1("SELECT count(*) FROM ops.stream_losses WHERE acknowledged_at IS NULL")[0]
          .as<std::int64_t>();
    });
  } catch (const std::exception& e) {
    open_losses = fail(e.what());
  }
  if (!open_losses) {
    log::warn("healthz.postgres",
              {{"correlation_id", ctx.correlation_id}, {"error", open_losses.error().message}});
    return std::nullopt;
  }
  return *open_losses;
}

Response HealthRoute::get(const Request& req, const RequestContext& ctx) {
  const auto losses = postgres_ok(ctx);
  const bool pg = losses.has_value();
  bool nats = nats_.connected();
  boost::json::object body;
  body["status"] = pg && nats ? "ok" : "degraded";
  body["postgres"] = pg ? "ok" : "unavailable";
  body["nats"] = nats ? "ok" : "unavailable";
  body["stream_losses"] = losses.value_or(0);
  Response res{pg && nats ? http::status::ok : http::status::service_unavailable, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

}  // namespace rmm::api
