#include "api/auth/auth_replies.h"

#include <algorithm>

#include "api/auth/authenticator.h"
#include "api/auth/credential_store.h"
#include "api/auth/passwords.h"
#include "api/problem.h"
#include "api/routes/agents.h"
#include "api/routes/json_reply.h"

namespace rmm::api::auth_reply {

Response unauthorized(const Request& req, const RequestContext& ctx, std::string_view detail) {
  auto res = make_problem(http::status::unauthorized, detail, ctx, req.version());
  res.set(http::field::www_authenticate, "Bearer");
  return res;
}

Response too_many(const Request& req, const RequestContext& ctx, std::int64_t retry_s,
                  std::string_view detail) {
  auto res = make_problem(http::status::too_many_requests, detail, ctx, req.version());
  res.set(http::field::retry_after, std::to_string(std::max<std::int64_t>(retry_s, 1)));
  return res;
}

boost::json::object me_json(const Principal& p, pqxx::transaction_base& tx) {
  boost::json::object o;
  o["id"] = p.user.str();
  o["username"] = p.username;
  o["display_name"] = p.display_name;
  o["role"] = std::string(role_text(p.role));
  boost::json::array scopes;
  for (const auto& s : p.scopes) {
    scopes.push_back(boost::json::object{{"scope", std::string(codec::scope_name(s.scope))},
                                         {"id", uuid_to_string(s.id)}});
  }
  o["scopes"] = std::move(scopes);
  if (p.impersonator) {
    boost::json::object imp{{"id", p.impersonator->str()}, {"username", nullptr}};
    auto rows =
        tx.exec_params("SELECT username FROM users WHERE id = $1::uuid", p.impersonator->str());
    if (!rows.empty()) imp["username"] = rows[0][0].c_str();
    o["impersonator"] = std::move(imp);
  } else {
    o["impersonator"] = nullptr;
  }
  return o;
}

Response db_unavailable(const Request& req, const RequestContext& ctx, const Error& e) {
  return read_problem(Error{Error::Code::kTimeout, e.message}, req, ctx);
}

Result<boost::json::object> open_session(pqxx::transaction_base& tx, const UserId& user,
                                         UnixNanos now, std::chrono::milliseconds ttl) {
  std::string token = new_session_token();
  const UnixNanos expires = now + ttl.count() * 1'000'000;
  auth_store::create_session(tx, token, user, std::nullopt, now, expires);
  // The new session, resolved like any request would be.
  auto principal = Authenticator::lookup(tx, token, now);
  if (!principal) return std::unexpected(principal.error());
  return boost::json::object{{"token", token},
                             {"expires_at", format_rfc3339_utc(expires / 1000)},
                             {"user", me_json(*principal, tx)}};
}

}  // namespace rmm::api::auth_reply
