// The query string of a request target: percent-decoded values by name.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/server/http.h"

namespace rmm::api {

// The first value of `name` in the request's query string, percent-decoded ('+' is a space);
// nullopt when absent. A malformed escape decodes to nullopt as well.
std::optional<std::string> query_param(const Request& req, std::string_view name);
std::optional<std::string> query_param(std::string_view target, std::string_view name);

// Percent-decodes `in`; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view in, bool plus_is_space);

}  // namespace rmm::api
