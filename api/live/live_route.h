// GET /api/v1/live: the Server-Sent-Events stream of docs/api.md ("Live updates"). Authenticated
// like every route (a Bearer header, or ?access_token= for EventSource); the stream carries only
// what the principal's scopes cover.
//
// Concurrency: get() runs on a request worker; the stream itself is driven by the session.
#pragma once

#include "api/live/live_hub.h"
#include "api/server/http.h"

namespace rmm::api::live {

class LiveRoute {
 public:
  explicit LiveRoute(LiveHub& hub) : hub_(hub) {}

  Response get(const Request& req, const RequestContext& ctx);

 private:
  LiveHub& hub_;
};

}  // namespace rmm::api::live
