// The second factor's routes of AuthRoutes (auth_routes.h, docs/api.md "Two-factor
// authentication"). Secrets and recovery codes are answered once, when made, and never logged.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/auth_replies.h"
#include "api/auth/auth_routes.h"
#include "api/auth/passwords.h"
#include "api/auth/totp.h"
#include "api/auth/totp_store.h"
#include "api/intents/json_input.h"
#include "api/problem.h"
#include "api/routes/agents.h"
#include "api/routes/json_reply.h"
#include "common/log.h"

namespace rmm::api {
namespace {

using namespace auth_reply;
using Retry = PgPool::Retry;

// Second-factor failures count, and lock, per user from every address (login_failures row
// "totp:<user id>", source "*"; no username contains ':'). Only someone who had the password, or
// a session, can make them, so this lock cannot be used by a stranger against the owner.
std::string factor_key(const UserId& user) {
  return "totp:" + user.str();
}
constexpr std::string_view kAnySource = "*";

struct FactorBody {
  std::optional<std::string> pending_token;
  std::optional<std::string> code;
  std::optional<std::string> recovery_code;
};

// The fields present as bounded strings; nullopt when the body is not such an object.
std::optional<FactorBody> factor_body(std::string_view body) {
  auto v = intents::parse_json_strict(body, 4);
  if (!v || !v->is_object()) return std::nullopt;
  FactorBody out;
  for (const auto& [key, value] : v->as_object()) {
    if (!value.is_string() || value.as_string().size() > 128) return std::nullopt;
    std::string text(value.as_string());
    if (key == "pending_token") {
      out.pending_token = std::move(text);
    } else if (key == "code") {
      out.code = std::move(text);
    } else if (key == "recovery_code") {
      out.recovery_code = std::move(text);
    } else {
      return std::nullopt;
    }
  }
  return out;
}

Response bad_request(const Request& req, const RequestContext& ctx, std::string_view detail) {
  return make_problem(http::status::bad_request, detail, ctx, req.version());
}

Response conflict(const Request& req, const RequestContext& ctx, std::string_view detail) {
  return make_problem(http::status::conflict, detail, ctx, req.version());
}

Response no_content(const Request& req) {
  Response res{http::status::no_content, req.version()};
  res.set(http::field::cache_control, "no-store");
  res.prepare_payload();
  return res;
}

// Checks a code or a recovery code against a confirmed TOTP and uses up what matched.
bool check_factor(pqxx::transaction_base& tx, const UserId& user, const auth_store::TotpState& t,
                  const FactorBody& body, UnixNanos now) {
  if (body.code) {
    auto step = totp::match(t.secret, *body.code, now, t.last_step);
    if (!step) return false;
    auth_store::accept_step(tx, user, *step);
    return true;
  }
  if (body.recovery_code) {
    auto normal = totp::normalize_recovery_code(*body.recovery_code);
    if (!normal) return false;
    return auth_store::use_recovery_code(tx, user, totp::recovery_code_hash_hex(*normal), now);
  }
  return false;
}

// Confirms an unconfirmed TOTP when `code` is its current one; the new recovery codes, or
// nothing when the code is wrong.
std::optional<std::vector<std::string>> confirm(pqxx::transaction_base& tx, const UserId& user,
                                                const auth_store::TotpState& t,
                                                std::string_view code, UnixNanos now) {
  auto step = totp::match(t.secret, code, now, -1);
  if (!step) return std::nullopt;
  std::vector<std::string> codes, hashes;
  for (int i = 0; i < totp::kRecoveryCodes; ++i) {
    codes.push_back(totp::new_recovery_code());
    hashes.push_back(totp::recovery_code_hash_hex(*totp::normalize_recovery_code(codes.back())));
  }
  auth_store::confirm_totp(tx, user, *step, hashes, now);
  return codes;
}

boost::json::array json_array(const std::vector<std::string>& items) {
  boost::json::array out;
  for (const auto& i : items) out.emplace_back(i);
  return out;
}

// Starts (or restarts) an enrolment; {"secret", "otpauth_uri"}.
boost::json::object start_enrolment(pqxx::transaction_base& tx, const UserId& user,
                                    std::string_view issuer, UnixNanos now) {
  auto secret = totp::new_secret();
  auth_store::put_unconfirmed_totp(tx, user, secret, now);
  auto rows =
      tx.exec_params("SELECT username FROM auth.credentials WHERE user_id = $1::uuid", user.str());
  std::string account = rows.empty() ? user.str() : rows[0][0].c_str();
  return boost::json::object{{"secret", totp::base32(secret)},
                             {"otpauth_uri", totp::otpauth_uri(issuer, account, secret)}};
}

Response not_impersonating(const Request& req, const RequestContext& ctx) {
  return make_problem(http::status::forbidden,
                      "not while impersonating: the second factor is the user's own", ctx,
                      req.version());
}

}  // namespace

bool AuthRoutes::totp_required(schema::UserRole role) const {
  return std::find(options_.totp_required.begin(), options_.totp_required.end(), role) !=
         options_.totp_required.end();
}

std::optional<boost::json::object> AuthRoutes::second_factor_challenge(pqxx::transaction_base& tx,
                                                                       const UserId& user,
                                                                       schema::UserRole role,
                                                                       std::string_view source,
                                                                       UnixNanos now) {
  auto t = auth_store::totp_of(tx, user, false);
  const bool enrolled = t && t->confirmed;
  if (!enrolled && !totp_required(role)) return std::nullopt;
  std::string token = new_session_token();
  const UnixNanos expires = now + kPendingTtl.count();
  auth_store::create_pending(tx, token, user, source, !enrolled, now, expires);
  return boost::json::object{{"second_factor", enrolled ? "totp" : "totp_enroll"},
                             {"pending_token", token},
                             {"expires_at", format_rfc3339_utc(expires / 1000)}};
}

Response AuthRoutes::login_second_factor(const Request& req, const RequestContext& ctx) {
  auto body = factor_body(req.body());
  if (!body || !body->pending_token || body->code.has_value() == body->recovery_code.has_value()) {
    return bad_request(req, ctx,
                       "expected {\"pending_token\": string} with \"code\" or \"recovery_code\"");
  }
  const std::string source = login_source(ctx.remote, req, options_.trusted_proxies);
  std::chrono::seconds retry{1};
  auto taken = sources_.take(source, retry);
  if (!taken) return db_unavailable(req, ctx, taken.error());
  if (!*taken)
    return too_many(req, ctx, retry.count(), "too many sign-in attempts from your address");
  enum class Outcome { kSession, kNoPending, kLocked, kNotEnrolled, kWrong };
  struct Step {
    Outcome outcome = Outcome::kWrong;
    boost::json::object body;
    UnixNanos locked_until = 0;
    std::string user;
  };
  const UnixNanos now = clock_.now();
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) -> Result<Step> {
    pqxx::work tx(c);
    auto pending = auth_store::pending_of(tx, *body->pending_token, now);
    if (!pending) return Step{Outcome::kNoPending};
    const std::string key = factor_key(pending->user);
    if (auto until = auth_store::locked_until(tx, key, kAnySource, now)) {
      return Step{Outcome::kLocked, {}, *until};
    }
    auto t = auth_store::totp_of(tx, pending->user, true);
    if (!t || (!t->confirmed && !body->code)) return Step{Outcome::kNotEnrolled};
    bool ok = false;
    std::optional<std::vector<std::string>> recovery_codes;
    if (t->confirmed) {
      ok = check_factor(tx, pending->user, *t, *body, now);
    } else {
      // An enrolment made through this pending sign-in: its first code confirms it.
      recovery_codes = confirm(tx, pending->user, *t, *body->code, now);
      ok = recovery_codes.has_value();
    }
    if (!ok) {
      const bool locked = auth_store::record_failure(tx, key, kAnySource, now, options_.lockout);
      if (locked || pending->attempts + 1 >= kPendingAttempts) {
        auth_store::delete_pending(tx, *body->pending_token);
      } else {
        auth_store::count_pending_attempt(tx, *body->pending_token);
      }
      tx.commit();
      return Step{Outcome::kWrong, {}, 0, pending->user.str()};
    }
    auth_store::delete_pending(tx, *body->pending_token);
    auth_store::clear_failures(tx, key, kAnySource);
    auto session = open_session(tx, pending->user, now, options_.session_ttl);
    if (!session) return std::unexpected(session.error());
    if (recovery_codes) (*session)["recovery_codes"] = json_array(*recovery_codes);
    tx.commit();
    return Step{Outcome::kSession, std::move(*session), 0, pending->user.str()};
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  switch (out->outcome) {
    case Outcome::kNoPending:
      return unauthorized(req, ctx, "this sign-in has expired or was never started; sign in again");
    case Outcome::kLocked:
      return too_many(req, ctx, (out->locked_until - now) / 1'000'000'000,
                      "too many wrong codes; this account's second factor is locked for a while");
    case Outcome::kNotEnrolled:
      return conflict(req, ctx,
                      "no authenticator yet: POST /api/v1/auth/login/enroll-totp, then its code");
    case Outcome::kWrong:
      log::warn("auth.second_factor_failed",
                {{"correlation_id", ctx.correlation_id}, {"user", out->user}, {"source", source}});
      return unauthorized(req, ctx, "wrong code");
    case Outcome::kSession:
      break;
  }
  // This step's attempt and the password step's are given back.
  sources_.give_back(source);
  sources_.give_back(source);
  const char* factor = body->recovery_code ? "recovery_code" : "totp";
  log::info(
      "auth.login",
      {{"correlation_id", ctx.correlation_id}, {"user", out->user}, {"second_factor", factor}});
  return json_response(req, out->body);
}

Response AuthRoutes::login_enroll_totp(const Request& req, const RequestContext& ctx) {
  auto body = factor_body(req.body());
  if (!body || !body->pending_token || body->code || body->recovery_code) {
    return bad_request(req, ctx, "expected {\"pending_token\": string}");
  }
  const UnixNanos now = clock_.now();
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) -> Result<Response> {
    pqxx::work tx(c);
    auto pending = auth_store::pending_of(tx, *body->pending_token, now);
    if (!pending) {
      return unauthorized(req, ctx, "this sign-in has expired or was never started; sign in again");
    }
    auto t = auth_store::totp_of(tx, pending->user, true);
    if (!pending->enroll || (t && t->confirmed)) {
      return conflict(req, ctx, "this user already has an authenticator");
    }
    auto o = start_enrolment(tx, pending->user, options_.totp_issuer, now);
    tx.commit();
    return json_response(req, o);
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  return std::move(*out);
}

Response AuthRoutes::totp_status(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.impersonator) return not_impersonating(req, ctx);
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto t = auth_store::totp_of(tx, p.user, false);
    const bool enabled = t && t->confirmed;
    boost::json::object o{
        {"enabled", enabled},
        {"enrolling", t && !t->confirmed},
        {"recovery_codes_left", enabled ? auth_store::recovery_codes_left(tx, p.user) : 0},
        {"required", totp_required(p.role)}};
    tx.commit();
    return o;
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  return json_response(req, *out);
}

Response AuthRoutes::totp_start(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.impersonator) return not_impersonating(req, ctx);
  const UnixNanos now = clock_.now();
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) -> Result<Response> {
    pqxx::work tx(c);
    auto t = auth_store::totp_of(tx, p.user, true);
    if (t && t->confirmed) {
      return conflict(req, ctx, "an authenticator is already enabled: remove it first");
    }
    auto o = start_enrolment(tx, p.user, options_.totp_issuer, now);
    tx.commit();
    return json_response(req, o);
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  return std::move(*out);
}

Response AuthRoutes::totp_confirm(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.impersonator) return not_impersonating(req, ctx);
  auto body = factor_body(req.body());
  if (!body || !body->code || body->pending_token || body->recovery_code) {
    return bad_request(req, ctx, "expected {\"code\": string}");
  }
  const UnixNanos now = clock_.now();
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) -> Result<Response> {
    pqxx::work tx(c);
    auto t = auth_store::totp_of(tx, p.user, true);
    if (!t || t->confirmed) {
      return conflict(req, ctx, "no enrolment is waiting for its code: POST /api/v1/auth/totp");
    }
    auto codes = confirm(tx, p.user, *t, *body->code, now);
    if (!codes) return bad_request(req, ctx, "wrong code");
    tx.commit();
    log::info("auth.totp_enabled",
              {{"correlation_id", ctx.correlation_id}, {"user", p.user.str()}});
    return json_response(req, boost::json::object{{"recovery_codes", json_array(*codes)}});
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  return std::move(*out);
}

Response AuthRoutes::totp_remove(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  if (p.impersonator) return not_impersonating(req, ctx);
  auto body = factor_body(req.body().empty() ? std::string_view("{}") : req.body());
  if (!body || body->pending_token || (body->code && body->recovery_code)) {
    return bad_request(req, ctx, "expected {\"code\": string} or {\"recovery_code\": string}");
  }
  const UnixNanos now = clock_.now();
  const std::string key = factor_key(p.user);
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) -> Result<Response> {
    pqxx::work tx(c);
    auto t = auth_store::totp_of(tx, p.user, true);
    if (!t) return make_problem(http::status::not_found, "no authenticator", ctx, req.version());
    if (t->confirmed) {
      // Removing a working second factor takes the second factor: a stolen session alone cannot.
      if (auto until = auth_store::locked_until(tx, key, kAnySource, now)) {
        return too_many(req, ctx, (*until - now) / 1'000'000'000,
                        "too many wrong codes; this account's second factor is locked for a while");
      }
      if (!check_factor(tx, p.user, *t, *body, now)) {
        auth_store::record_failure(tx, key, kAnySource, now, options_.lockout);
        tx.commit();
        return bad_request(req, ctx, "wrong code");
      }
      auth_store::clear_failures(tx, key, kAnySource);
    }
    auth_store::delete_totp(tx, p.user);
    tx.commit();
    log::warn("auth.totp_removed",
              {{"correlation_id", ctx.correlation_id}, {"user", p.user.str()}});
    return no_content(req);
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  return std::move(*out);
}

Response AuthRoutes::totp_reset(const Request& req, const RequestContext& ctx) {
  const Principal& p = *ctx.principal;
  auto target = UserId::parse(ctx.param("id"));
  if (!target) return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  if (*target == p.user) {
    return make_problem(
        http::status::forbidden,
        "your own authenticator is removed with DELETE /api/v1/auth/totp and a code", ctx,
        req.version());
  }
  auto out = auth_pg_.run(Retry::kOnce, [&](pqxx::connection& c) -> Result<Response> {
    pqxx::work tx(c);
    auto t = auth_store::totp_of(tx, *target, true);
    if (!t) return make_problem(http::status::not_found, "no authenticator", ctx, req.version());
    auth_store::delete_totp(tx, *target);
    tx.commit();
    log::warn(
        "auth.totp_reset",
        {{"correlation_id", ctx.correlation_id}, {"owner", p.user.str()}, {"user", target->str()}});
    return no_content(req);
  });
  if (!out) return db_unavailable(req, ctx, out.error());
  return std::move(*out);
}

}  // namespace rmm::api
