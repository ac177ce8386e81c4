// GET /api/v1/openapi.json: the OpenAPI 3 document of every route (docs/openapi.json, compiled in
// at configure time so an installed rmm-api needs no source tree). Public: it describes the API,
// not any data.
//
// Concurrency: thread-safe (the document is built once, on first use).
#pragma once

#include <string_view>

#include "api/server/http.h"

namespace rmm::api {

// The document's text, exactly as docs/openapi.json holds it.
std::string_view openapi_document();

Response get_openapi(const Request& req, const RequestContext& ctx);

}  // namespace rmm::api
