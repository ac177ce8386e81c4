// RFC 9457 problem details: the one shape of every error response (application/problem+json).
//
//   {"type":"urn:gururmm:problem:not-found","title":"Not Found","status":404,
//    "detail":"no route for /x","correlation_id":"0190..."}
//
// `detail` is written for the client: never put SQL, driver or exception text in it.
#pragma once

#include <string>
#include <string_view>

#include "api/server/http.h"

namespace rmm::api {

// A problem response with the standard title for `status`, type urn:gururmm:problem:<slug>.
Response make_problem(http::status status, std::string_view detail, const RequestContext& ctx,
                      unsigned version = 11);

// The generic answer to an unexpected failure; the cause goes to the log, not to the client.
Response internal_error(const RequestContext& ctx, unsigned version = 11);

// A fresh correlation id (UUIDv7), or the client's X-Correlation-Id when it is a short token of
// [A-Za-z0-9._-] (so it is safe to log and echo).
std::string correlation_id_for(const Request& req);

}  // namespace rmm::api
