// Answers shared by the sign-in routes (auth_routes.cc, totp_routes.cc): the problem documents of
// refused sign-ins, the user as /auth/me shows it, and a new session.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <pqxx/pqxx>
#include <string_view>

#include "api/auth/principal.h"
#include "api/server/http.h"
#include "common/clock.h"
#include "common/result.h"

namespace rmm::api::auth_reply {

// 401 with WWW-Authenticate: Bearer; `detail` is what the caller is told.
Response unauthorized(const Request& req, const RequestContext& ctx,
                      std::string_view detail = "wrong username or password");
// 429 with Retry-After (at least 1 s).
Response too_many(const Request& req, const RequestContext& ctx, std::int64_t retry_s,
                  std::string_view detail);
// 503: PostgreSQL could not be reached.
Response db_unavailable(const Request& req, const RequestContext& ctx, const Error& e);
// The /auth/me object of `p`.
boost::json::object me_json(const Principal& p, pqxx::transaction_base& tx);
// Creates a session for `user` lasting `ttl` and answers {"token", "expires_at", "user"}.
Result<boost::json::object> open_session(pqxx::transaction_base& tx, const UserId& user,
                                         UnixNanos now, std::chrono::milliseconds ttl);

}  // namespace rmm::api::auth_reply
