#include "api/server/router.h"

#include <chrono>

#include "api/problem.h"
#include "common/log.h"

namespace rmm::api {
namespace {

constexpr std::string_view kApiPrefix = "/api/";

Response method_not_allowed(const Request& req, std::string allow, const RequestContext& ctx) {
  auto res = make_problem(http::status::method_not_allowed,
                          "method " + std::string(req.method_string()) + " is not allowed here",
                          ctx, req.version());
  res.set(http::field::allow, allow);
  return res;
}

}  // namespace

void Router::add(http::verb method, std::string path, Handler handler) {
  routes_.push_back(Route{method, std::move(path), std::move(handler)});
}

Response Router::dispatch(const Request& req, const RequestContext& ctx) const {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));

  std::string allow;
  for (const auto& route : routes_) {
    if (route.path != path) continue;
    if (route.method == req.method()) return route.handler(req, ctx);
    if (!allow.empty()) allow += ", ";
    allow += std::string(http::to_string(route.method));
  }
  if (!allow.empty()) return method_not_allowed(req, allow, ctx);

  if (path.starts_with(kApiPrefix) || path == "/api" || !static_) {
    return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  }
  if (req.method() != http::verb::get) return method_not_allowed(req, "GET", ctx);
  return static_(req, path, ctx);
}

Response Router::handle(const Request& req, const RequestContext& ctx) const noexcept {
  auto start = std::chrono::steady_clock::now();
  Response res;
  try {
    res = dispatch(req, ctx);
  } catch (const std::exception& e) {
    log::error("http.internal_error",
               {{"correlation_id", ctx.correlation_id}, {"error", e.what()}});
    res = internal_error(ctx, req.version());
  } catch (...) {
    log::error("http.internal_error",
               {{"correlation_id", ctx.correlation_id}, {"error", "unknown exception"}});
    res = internal_error(ctx, req.version());
  }
  res.set("X-Correlation-Id", ctx.correlation_id);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  log::info("http.request", {{"method", std::string(req.method_string())},
                             {"target", std::string(req.target())},
                             {"status", res.result_int()},
                             {"us", us},
                             {"correlation_id", ctx.correlation_id}});
  return res;
}

}  // namespace rmm::api
