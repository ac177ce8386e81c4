// Maps a request to its handler and turns every outcome into a response: unknown route 404, wrong
// method 405 (with Allow), missing or bad credentials 401, too low a role 403, a body that is not
// declared `Content-Type: application/json` 415 (any routed method but GET and HEAD, once the
// caller is known), an escaped exception a logged, generic 500. Every response carries
// X-Correlation-Id, and one access-log line is written per request.
//
// Paths are exact ("/healthz") or patterns with whole-segment parameters
// ("/api/v1/agents/{id}/metrics"): a `{name}` segment matches any one non-empty segment and its
// value is in RequestContext::param("name"). Exact segments win over parameters when both match
// ("/api/v1/agents/summary" before "/api/v1/agents/{id}"); otherwise the first added route wins.
//
// Every route declares its Access: public, or signed in with at least some role. For the latter
// the router runs the authenticator (set_authenticator) before the handler and passes the
// Principal in RequestContext::principal (never null in such a handler).
//
// Concurrency: configure with add()/set_static()/set_authenticator() before serving; handle() is
// then thread-safe as far as the handlers are. handle() may block in handlers: call it from the
// worker pool.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth/principal.h"
#include "api/server/http.h"
#include "common/metrics.h"
#include "common/result.h"

namespace rmm::api {

// Who may call a route.
struct Access {
  bool authenticated = true;
  schema::UserRole min_role = schema::UserRole::ReadOnly;

  static constexpr Access open() { return Access{false, schema::UserRole::ReadOnly}; }
  static constexpr Access signed_in() { return Access{true, schema::UserRole::ReadOnly}; }
  static constexpr Access role(schema::UserRole r) { return Access{true, r}; }
};

class Router {
 public:
  using Handler = std::function<Response(const Request&, const RequestContext&)>;
  using StaticHandler =
      std::function<Response(const Request&, std::string_view path, const RequestContext&)>;
  // Resolves the caller of an authenticated route. An Error of code kTimeout means the credential
  // store could not be reached (503); any other error is a 401 whose message is not shown.
  using AuthenticateFn = std::function<Result<Principal>(const Request&)>;

  // A route; `path` is exact or a pattern with `{name}` segments (query strings are ignored when
  // matching).
  void add(http::verb method, std::string path, Access access, Handler handler);
  // A public route (Access::open()): /healthz and the like.
  void add(http::verb method, std::string path, Handler handler) {
    add(method, std::move(path), Access::open(), std::move(handler));
  }
  // Serves GET for every path outside /api/ and not otherwise routed (public).
  void set_static(StaticHandler handler) { static_ = std::move(handler); }
  void set_authenticator(AuthenticateFn fn) { authenticate_ = std::move(fn); }
  // Counts every request in `registry` by method, route pattern (never the raw path, so the
  // series stay bounded: "static" for the web files, "unmatched" for 404s) and status class,
  // with its latency; declares the families (docs/operations.md "Metrics").
  void set_metrics(metrics::Registry* registry);

  Response handle(const Request& req, const RequestContext& ctx) const noexcept;

  // Every route added, as method and path pattern (the OpenAPI document is checked against it).
  std::vector<std::pair<http::verb, std::string>> routes() const {
    std::vector<std::pair<http::verb, std::string>> out;
    for (const auto& r : routes_) out.emplace_back(r.method, r.path);
    return out;
  }

 private:
  struct Route {
    http::verb method;
    std::string path;
    std::vector<std::string> segments;  // split pattern; "{x}" for parameters
    int literal_segments = 0;           // exact segments, for precedence
    Access access;
    Handler handler;
  };

  // `route` receives the matched pattern (see set_metrics).
  Response dispatch(const Request& req, const RequestContext& ctx, std::string_view* route) const;
  Response call(const Route& route, const Request& req, RequestContext ctx) const;
  static bool match(const Route& route, const std::vector<std::string_view>& segments,
                    std::vector<std::pair<std::string, std::string>>* params);

  std::vector<Route> routes_;
  StaticHandler static_;
  AuthenticateFn authenticate_;
  metrics::Registry* metrics_ = nullptr;
};

}  // namespace rmm::api
