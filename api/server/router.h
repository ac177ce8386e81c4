// Maps a request to its handler and turns every outcome into a response: unknown route 404, wrong
// method 405 (with Allow), an escaped exception a logged, generic 500. Every response carries
// X-Correlation-Id, and one access-log line is written per request.
//
// Concurrency: configure with add()/set_static() before serving; handle() is then thread-safe
// as far as the handlers are. handle() may block in handlers: call it from the worker pool.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "api/server/http.h"

namespace rmm::api {

class Router {
 public:
  using Handler = std::function<Response(const Request&, const RequestContext&)>;
  using StaticHandler =
      std::function<Response(const Request&, std::string_view path, const RequestContext&)>;

  // An exact-path route (query strings are ignored when matching).
  void add(http::verb method, std::string path, Handler handler);
  // Serves GET for every path outside /api/ and not otherwise routed.
  void set_static(StaticHandler handler) { static_ = std::move(handler); }

  Response handle(const Request& req, const RequestContext& ctx) const noexcept;

 private:
  Response dispatch(const Request& req, const RequestContext& ctx) const;

  struct Route {
    http::verb method;
    std::string path;
    Handler handler;
  };
  std::vector<Route> routes_;
  StaticHandler static_;
};

}  // namespace rmm::api
