#include "api/live/live_route.h"

#include "api/problem.h"
#include "common/log.h"

namespace rmm::api::live {

Response LiveRoute::get(const Request& req, const RequestContext& ctx) {
  if (ctx.stream == nullptr || ctx.principal == nullptr) {
    log::error("live.no_stream_slot", {{"correlation_id", ctx.correlation_id}});
    return internal_error(ctx, req.version());
  }
  auto conn = hub_.connect(*ctx.principal);
  if (!conn) {
    auto res = make_problem(http::status::service_unavailable,
                            "too many live connections; try again later", ctx, req.version());
    res.set(http::field::retry_after, "30");
    return res;
  }
  *ctx.stream = *conn;
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/event-stream; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Accel-Buffering", "no");  // proxies must not buffer the stream
  return res;
}

}  // namespace rmm::api::live
