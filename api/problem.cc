#include "api/problem.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "common/clock.h"
#include "common/ids.h"

namespace rmm::api {
namespace {

std::string slug_for(http::status status) {
  std::string slug;
  for (char c : http::obsolete_reason(status)) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      slug.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (!slug.empty() && slug.back() != '-') {
      slug.push_back('-');
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug.empty() ? "error" : slug;
}

bool is_safe_token(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

}  // namespace

Response make_problem(http::status status, std::string_view detail, const RequestContext& ctx,
                      unsigned version) {
  boost::json::object body;
  body["type"] = "urn:gururmm:problem:" + slug_for(status);
  body["title"] = std::string(http::obsolete_reason(status));
  body["status"] = static_cast<unsigned>(status);
  body["detail"] = detail;
  body["correlation_id"] = ctx.correlation_id;
  Response res{status, version};
  res.set(http::field::content_type, "application/problem+json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

Response internal_error(const RequestContext& ctx, unsigned version) {
  return make_problem(http::status::internal_server_error,
                      "the server could not complete the request; quote the correlation id", ctx,
                      version);
}

std::string correlation_id_for(const Request& req) {
  auto it = req.find("X-Correlation-Id");
  if (it != req.end()) {
    std::string_view given(it->value().data(), it->value().size());
    if (is_safe_token(given)) return std::string(given);
  }
  return uuid_to_string(uuid_v7(real_clock()));
}

}  // namespace rmm::api
