#include "api/openapi/openapi_route.h"

#include <string>

#include "openapi_json.h"

namespace rmm::api {

std::string_view openapi_document() {
  static const std::string doc = [] {
    std::string out;
    for (std::string_view part : kOpenApiParts) out += part;
    return out;
  }();
  return doc;
}

Response get_openapi(const Request& req, const RequestContext&) {
  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "public, max-age=300");
  res.body() = std::string(openapi_document());
  res.prepare_payload();
  return res;
}

}  // namespace rmm::api
