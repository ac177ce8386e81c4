// The HTTP message types every part of rmm-api shares.
#pragma once

#include <boost/beast/http.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmm::api {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

struct Principal;
class StreamSource;

// What a handler knows about the request beyond the message itself.
struct RequestContext {
  // Sent back as X-Correlation-Id and written into every log line about the request.
  std::string correlation_id;
  // The peer's IP address as text ("127.0.0.1", "::1"); "" when unknown. A proxy's address when
  // one is in front (see api/auth/login_source.h for whom to believe about the client's).
  std::string remote;
  // Values of the route's `{name}` path segments, in pattern order (already matched, not decoded).
  std::vector<std::pair<std::string, std::string>> params;
  // The signed-in caller on routes that require authentication (see Router::Access); null on
  // public routes. Points into the router's stack frame: valid only during the handler call.
  const Principal* principal = nullptr;
  // Set by the session: a handler answering with a long-lived body (Server-Sent Events) stores
  // its source here and returns the response head (see api/server/stream.h).
  std::shared_ptr<StreamSource>* stream = nullptr;

  // The value of path parameter `name`, or "" when the route has none of that name.
  std::string_view param(std::string_view name) const {
    for (const auto& [k, v] : params) {
      if (k == name) return v;
    }
    return {};
  }
};

}  // namespace rmm::api
