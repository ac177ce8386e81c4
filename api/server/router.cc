#include "api/server/router.h"

#include <algorithm>
#include <cctype>
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

// "/a/b/" -> {"a", "b", ""}; the leading '/' is dropped.
template <class S>
std::vector<S> split_path(std::string_view path) {
  std::vector<S> out;
  if (path.starts_with('/')) path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    out.emplace_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// A body is read as JSON only when the client says it is: `application/json`, with parameters
// (charset) allowed. Anything else (a form, text/plain, no Content-Type) is refused, so a
// body a browser sends cross-site without a preflight is never taken for an intent.
bool body_acceptable(const Request& req) {
  if (req.body().empty() || req.method() == http::verb::get || req.method() == http::verb::head) {
    return true;
  }
  auto it = req.find(http::field::content_type);
  if (it == req.end()) return false;
  std::string_view type(it->value().data(), it->value().size());
  type = type.substr(0, type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  return iequals(type, "application/json");
}

Response unsupported_media_type(const Request& req, const RequestContext& ctx) {
  auto res = make_problem(http::status::unsupported_media_type,
                          "the body must be JSON, sent with Content-Type: application/json", ctx,
                          req.version());
  res.set(http::field::accept, "application/json");
  return res;
}

}  // namespace

void Router::add(http::verb method, std::string path, Access access, Handler handler) {
  Route route{method, std::move(path), {}, 0, access, std::move(handler)};
  route.segments = split_path<std::string>(route.path);
  for (const auto& s : route.segments) {
    if (!is_param(s)) ++route.literal_segments;
  }
  routes_.push_back(std::move(route));
}

bool Router::match(const Route& route, const std::vector<std::string_view>& segments,
                   std::vector<std::pair<std::string, std::string>>* params) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::string& pattern = route.segments[i];
    if (is_param(pattern)) {
      if (segments[i].empty()) return false;
      if (params) params->emplace_back(pattern.substr(1, pattern.size() - 2), segments[i]);
    } else if (pattern != segments[i]) {
      return false;
    }
  }
  return true;
}

Response Router::call(const Route& route, const Request& req, RequestContext ctx) const {
  if (!route.access.authenticated) {
    if (!body_acceptable(req)) return unsupported_media_type(req, ctx);
    return route.handler(req, ctx);
  }
  if (!authenticate_) return internal_error(ctx, req.version());
  auto principal = authenticate_(req);
  if (!principal) {
    if (principal.error().code == Error::Code::kTimeout) {
      log::error("auth.unavailable",
                 {{"correlation_id", ctx.correlation_id}, {"error", principal.error().message}});
      return make_problem(http::status::service_unavailable, "the database is unavailable", ctx,
                          req.version());
    }
    auto res = make_problem(http::status::unauthorized,
                            "sign in: a valid session token is required", ctx, req.version());
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }
  if (!principal->at_least(route.access.min_role)) {
    return make_problem(http::status::forbidden, "your role may not do this", ctx, req.version());
  }
  if (!body_acceptable(req)) return unsupported_media_type(req, ctx);
  ctx.principal = &*principal;
  return route.handler(req, ctx);
}

Response Router::dispatch(const Request& req, const RequestContext& ctx,
                          std::string_view* route_label) const {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  auto segments = split_path<std::string_view>(path);

  // The most specific pattern matching the path (most literal segments, first added on ties).
  int best = -1;
  for (const auto& route : routes_) {
    if (route.literal_segments > best && match(route, segments, nullptr)) {
      best = route.literal_segments;
    }
  }
  std::string allow;
  if (best >= 0) {
    for (const auto& route : routes_) {
      if (route.literal_segments != best || !match(route, segments, nullptr)) continue;
      *route_label = route.path;
      if (route.method == req.method()) {
        RequestContext routed = ctx;
        match(route, segments, &routed.params);
        return call(route, req, std::move(routed));
      }
      if (!allow.empty()) allow += ", ";
      allow += std::string(http::to_string(route.method));
    }
  }
  if (!allow.empty()) return method_not_allowed(req, allow, ctx);

  if (path.starts_with(kApiPrefix) || path == "/api" || !static_) {
    return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  }
  *route_label = "static";
  if (req.method() != http::verb::get) return method_not_allowed(req, "GET", ctx);
  return static_(req, path, ctx);
}

Response Router::handle(const Request& req, const RequestContext& ctx) const noexcept {
  auto start = std::chrono::steady_clock::now();
  Response res;
  std::string_view route = "unmatched";
  try {
    res = dispatch(req, ctx, &route);
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
  // The path only: a query string may carry an access_token.
  std::string_view target(req.target().data(), req.target().size());
  log::info("http.request", {{"method", std::string(req.method_string())},
                             {"path", std::string(target.substr(0, target.find('?')))},
                             {"status", res.result_int()},
                             {"us", us},
                             {"correlation_id", ctx.correlation_id}});
  if (metrics_ != nullptr) {
    const metrics::Labels labels{std::string(req.method_string()), std::string(route)};
    metrics_->add("rmm_api_requests_total", 1,
                  {labels[0], labels[1], std::to_string(res.result_int() / 100) + "xx"});
    metrics_->observe("rmm_api_request_duration_seconds", static_cast<double>(us) / 1e6, labels);
  }
  return res;
}

void Router::set_metrics(metrics::Registry* registry) {
  metrics_ = registry;
  if (registry == nullptr) return;
  registry->counter("rmm_api_requests_total",
                    "HTTP requests answered, by method, route pattern and status class",
                    {"method", "route", "status_class"});
  registry->histogram("rmm_api_request_duration_seconds",
                      "Time to answer an HTTP request (for streams: to the response head), by "
                      "method and route pattern",
                      metrics::latency_buckets(), {"method", "route"});
}

}  // namespace rmm::api
