#include "api/auth/auth_routes.h"

#include <algorithm>
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/auth_replies.h"
#include "api/auth/passwords.h"
#include "api/auth/totp_store.h"
#include "api/intents/json_input.h"
#include "api/problem.h"
#include "api/routes/agents.h"
#include "api/routes/json_reply.h"
#include "common/log.h"

namespace rmm::api {
namespace {

using namespace auth_reply;

constexpr std::size_t kMaxUsername = 128;

// What a username may hold (rmm-api create-user and POST /api/v1/users allow no more).
bool valid_username(std::string_view u) {
  return !u.empty() && u.size() <= kMaxUsername && std::all_of(u.begin(), u.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '@';
  });
}

// {"username", "password"} as two bounded strings, or nothing.
std::optional<std::pair<std::string, std::string>> login_body(std::string_view body) {
  auto v = intents::parse_json_strict(body, 4);
  if (!v || !v->is_object()) return std::nullopt;
  const auto& o = v->as_object();
  const auto* u = o.if_contains("username");
  const auto* p = o.if_contains("password");
  if (u == nullptr || p == nullptr || !u->is_string() || !p->is_string()) return std::nullopt;
  if (u->as_string().empty() || u->as_string().size() > kMaxUsername) return std::nullopt;
  if (p->as_string().size() > kMaxPasswordLength) return std::nullopt;
  return std::pair{std::string(u->as_string()), std::string(p->as_string())};
}

}  // namespace

AuthRoutes::AuthRoutes(PgPool& auth_pg, PgPool& read_pg, PasswordGate& passwords,
                       const Clock& clock, AuthOptions options)
    : auth_pg_(auth_pg),
      read_pg_(read_pg),
      passwords_(passwords),
      clock_(clock),
      options_(options),
      sources_(auth_pg, clock, "sign_in", options.per_source),
      bucket_(options.login_burst),
      bucket_at_(clock.steady_now()) {}

bool AuthRoutes::take_login_token() {
  std::lock_guard lock(bucket_mutex_);
  auto now = clock_.steady_now();
  double elapsed = std::chrono::duration<double>(now - bucket_at_).count();
  bucket_at_ = now;
  bucket_ = std::min(options_.login_burst, bucket_ + elapsed * options_.logins_per_second);
  if (bucket_ < 1) return false;
  bucket_ -= 1;
  return true;
}

void AuthRoutes::give_back_login_token() {
  std::lock_guard lock(bucket_mutex_);
  bucket_ = std::min(options_.login_burst, bucket_ + 1);
}

Response AuthRoutes::login(const Request& req, const RequestContext& ctx) {
  auto body = login_body(req.body());
  if (!body) {
    return make_problem(http::status::bad_request,
                        "expected {\"username\": string, \"password\": string}", ctx,
                        req.version());
  }
  const auto& [username, password] = *body;
  const std::string source = login_source(ctx.remote, req, options_.trusted_proxies);
  // The process's bucket first: it is in memory, so a flood from many addresses is refused
  // without a query. A request refused by its address's bucket gives the token back, so only
  // sign-ins both buckets let through take from either.
  if (!take_login_token()) {
    return too_many(req, ctx, 1, "too many sign-in attempts; retry later");
  }
  std::chrono::seconds retry{1};
  auto taken = sources_.take(source, retry);
  if (!taken || !*taken) give_back_login_token();
  if (!taken) return db_unavailable(req, ctx, taken.error());
  if (!*taken) {
    return too_many(req, ctx, retry.count(), "too many sign-in attempts from your address");
  }
  if (!valid_username(username)) {
    // No such user can exist: the same answer as for an unknown one, without the Argon2id work
    // (the rule is public, so skipping it reveals nothing); it costs the address an attempt.
    give_back_login_token();
    log::warn("auth.login_failed", {{"correlation_id", ctx.correlation_id},
                                    {"username", username},
                                    {"source", source},
                                    {"reason", "malformed username"}});
    return unauthorized(req, ctx);
  }
  // Refusals from here on are the server's, not the caller's failures: the attempt is given back.
  auto ticket = passwords_.enter();
  if (!ticket) {
    sources_.give_back(source);
    return too_many(req, ctx, 1, "the server is busy checking other sign-ins; retry");
  }

  // Each step is one transaction on the credential pool, run again on a new connection when
  // PostgreSQL dropped the first before COMMIT (PgPool::run); no connection is held during the
  // password check.
  using Retry = PgPool::Retry;
  const UnixNanos now = clock_.now();
  struct Found {
    std::optional<UnixNanos> locked_until;
    std::optional<auth_store::LoginUser> user;
  };
  auto found = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    Found f{auth_store::locked_until(tx, username, source, now), std::nullopt};
    if (!f.locked_until) f.user = auth_store::find_login(tx, username);
    tx.commit();
    return f;
  });
  if (!found) return db_unavailable(req, ctx, found.error());
  if (found->locked_until) {
    return too_many(req, ctx, (*found->locked_until - now) / 1'000'000'000,
                    "too many failed sign-ins from your address; this account is locked here for "
                    "a while");
  }
  const auto& user = found->user;
  // ~0.1 s of Argon2id, the same for unknown users, once the gate gives a turn.
  auto verified = ticket->verify(user ? user->password_hash : decoy_hash(), password);
  ticket.reset();
  if (!verified) {
    sources_.give_back(source);
    return too_many(req, ctx, 1, "the server is busy checking other sign-ins; retry");
  }
  if (!*verified || !user) {
    auto locked = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) {
      pqxx::work tx(c);
      bool l = auth_store::record_failure(tx, username, source, now, options_.lockout);
      tx.commit();
      return l;
    });
    if (!locked) return db_unavailable(req, ctx, locked.error());
    log::warn("auth.login_failed", {{"correlation_id", ctx.correlation_id},
                                    {"username", username},
                                    {"source", source},
                                    {"locked", *locked}});
    return unauthorized(req, ctx);
  }
  // The password is right. A user with a second factor (or whose role requires one) gets a
  // pending sign-in instead of a session; its attempt is given back only once that completes, so
  // whoever holds the password still guesses codes at the per-address rate.
  bool pending = false;
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) -> Result<boost::json::object> {
    pqxx::work tx(c);
    auth_store::clear_failures(tx, username, source);
    if (auto challenge = second_factor_challenge(tx, user->user, user->role, source, now)) {
      pending = true;
      tx.commit();
      return std::move(*challenge);
    }
    auto o = open_session(tx, user->user, now, options_.session_ttl);
    if (o) tx.commit();
    return o;
  });
  if (!out) return read_problem(out.error(), req, ctx);
  if (pending) {
    log::info("auth.login_second_factor",
              {{"correlation_id", ctx.correlation_id}, {"user", user->user.str()}});
    return json_response(req, *out);
  }
  sources_.give_back(source);
  log::info("auth.login", {{"correlation_id", ctx.correlation_id}, {"user", user->user.str()}});
  return json_response(req, *out);
}

Response AuthRoutes::logout(const Request& req, const RequestContext& ctx) {
  auto token = Authenticator::token_of(req);
  auto done = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) -> Status {
    pqxx::work tx(c);
    auth_store::revoke_session(tx, token.value_or(""), clock_.now());
    tx.commit();
    return {};
  });
  if (!done) return db_unavailable(req, ctx, done.error());
  Response res{http::status::no_content, req.version()};
  res.set(http::field::cache_control, "no-store");
  res.prepare_payload();
  return res;
}

Response AuthRoutes::me(const Request& req, const RequestContext& ctx) {
  // At most one statement (the impersonator's name): no explicit transaction.
  auto out = read_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return me_json(*ctx.principal, tx);
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  return json_response(req, *out);
}

Response AuthRoutes::impersonate(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.impersonator || p.role != schema::UserRole::Owner) {
    return make_problem(http::status::forbidden, "only an owner may impersonate", ctx,
                        req.version());
  }
  auto v = intents::parse_json_strict(req.body(), 4);
  const boost::json::value* id_field = nullptr;
  if (v && v->is_object()) id_field = v->as_object().if_contains("user_id");
  std::optional<UserId> target;
  if (id_field != nullptr && id_field->is_string()) {
    auto parsed = UserId::parse(std::string_view(id_field->as_string()));
    if (parsed) target = *parsed;
  }
  if (!target) {
    return make_problem(http::status::bad_request, "expected {\"user_id\": uuid}", ctx,
                        req.version());
  }
  // One transaction (a new session): repeated on a new connection if PostgreSQL dropped the
  // first before COMMIT.
  auto res = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) -> Response {
    pqxx::work tx(c);
    auto rows = tx.exec_params("SELECT role FROM users WHERE id = $1::uuid AND NOT disabled",
                               target->str());
    if (rows.empty()) {
      return make_problem(http::status::not_found, "no such resource", ctx, req.version());
    }
    auto role = codec::role_from_name(rows[0][0].c_str());
    if (!role || static_cast<int>(*role) >= static_cast<int>(p.role)) {
      return make_problem(http::status::forbidden, "only a user with a lower role", ctx,
                          req.version());
    }
    // Tied to the owner's own session: it ends when that one does (logout, expiry, revocation),
    // and never outlives it.
    const UnixNanos now = clock_.now();
    const std::string owner_token = Authenticator::token_of(req).value_or("");
    auto owner_expires = auth_store::session_expiry(tx, owner_token, now);
    if (!owner_expires) {
      return make_problem(http::status::unauthorized, "sign in: a valid session token is required",
                          ctx, req.version());
    }
    const UnixNanos expires =
        std::min(now + options_.session_ttl.count() * 1'000'000, *owner_expires);
    std::string token = new_session_token();
    auth_store::create_session(tx, token, p.user, target, now, expires, owner_token);
    tx.commit();
    log::warn(
        "auth.impersonate",
        {{"correlation_id", ctx.correlation_id}, {"owner", p.user.str()}, {"as", target->str()}});
    return json_response(
        req,
        boost::json::object{{"token", token}, {"expires_at", format_rfc3339_utc(expires / 1000)}});
  });
  if (!res) return db_unavailable(req, ctx, res.error());
  return std::move(*res);
}

}  // namespace rmm::api
