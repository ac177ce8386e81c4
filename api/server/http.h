// The HTTP message types every part of rmm-api shares.
#pragma once

#include <boost/beast/http.hpp>
#include <string>

namespace rmm::api {

namespace http = boost::beast::http;

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// What a handler knows about the request beyond the message itself.
struct RequestContext {
  // Sent back as X-Correlation-Id and written into every log line about the request.
  std::string correlation_id;
};

}  // namespace rmm::api
