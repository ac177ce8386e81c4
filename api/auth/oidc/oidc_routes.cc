#include "api/auth/oidc/oidc_routes.h"

#include <sodium.h>

#include <algorithm>

#include "api/auth/authenticator.h"
#include "api/auth/credential_store.h"
#include "api/auth/oidc/oidc_store.h"
#include "api/auth/passwords.h"
#include "api/problem.h"
#include "api/routes/agents.h"
#include "api/routes/json_reply.h"
#include "common/log.h"

namespace rmm::api::oidc {
namespace {

// Unauthenticated starts each leave a row until they expire: past this many, new ones wait.
constexpr std::int64_t kMaxPending = 10'000;
constexpr double kStartsPerSecond = 5;
constexpr double kStartBurst = 20;
constexpr std::string_view kAllSources = "*";  // the start bucket's one row
constexpr std::size_t kMaxCode = 2048;
constexpr std::size_t kMaxSubject = 255;

std::string random_token() {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  return base64url_encode(std::string_view(reinterpret_cast<char*>(raw), sizeof raw));
}

// RFC 7636 S256: base64url(SHA-256(verifier)).
std::string code_challenge(std::string_view verifier) {
  unsigned char hash[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(hash, reinterpret_cast<const unsigned char*>(verifier.data()),
                     verifier.size());
  return base64url_encode(std::string_view(reinterpret_cast<char*>(hash), sizeof hash));
}

std::optional<std::string> body_string(const boost::json::object& o, std::string_view name,
                                       std::size_t max) {
  const auto* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  if (v->as_string().empty() || v->as_string().size() > max) return std::nullopt;
  return std::string(v->as_string());
}

std::optional<boost::json::object> body_object(const Request& req) {
  boost::system::error_code ec;
  auto v = boost::json::parse(req.body(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

boost::json::object user_json(const Principal& p) {
  boost::json::array scopes;
  for (const auto& s : p.scopes) {
    scopes.push_back(boost::json::object{{"scope", std::string(codec::scope_name(s.scope))},
                                         {"id", uuid_to_string(s.id)}});
  }
  return {{"id", p.user.str()},
          {"username", p.username},
          {"display_name", p.display_name},
          {"role", std::string(role_text(p.role))},
          {"scopes", std::move(scopes)},
          {"impersonator", nullptr}};
}

Response unavailable(const Request& req, const RequestContext& ctx, const Error& e) {
  return read_problem(Error{Error::Code::kTimeout, e.message}, req, ctx);
}

Response no_content(const Request& req) {
  Response res{http::status::no_content, req.version()};
  res.set(http::field::cache_control, "no-store");
  res.prepare_payload();
  return res;
}

}  // namespace

OidcRoutes::OidcRoutes(OidcConfig config, PgPool& auth_pg, const Clock& clock,
                       std::chrono::milliseconds session_ttl)
    : client_(std::move(config), clock),
      auth_pg_(auth_pg),
      clock_(clock),
      session_ttl_(session_ttl),
      starts_(auth_pg, clock, "oidc_start",
              {.burst = kStartBurst, .per_minute = kStartsPerSecond * 60, .max_sources = 1}) {}

void OidcRoutes::register_routes(Router& router) {
  auto bind = [this](Response (OidcRoutes::*method)(const Request&, const RequestContext&)) {
    return [this, method](const Request& req, const RequestContext& ctx) {
      return (this->*method)(req, ctx);
    };
  };
  router.add(http::verb::get, "/api/v1/auth/oidc", Access::open(), bind(&OidcRoutes::info));
  router.add(http::verb::post, "/api/v1/auth/oidc/start", Access::open(), bind(&OidcRoutes::start));
  router.add(http::verb::post, "/api/v1/auth/oidc/callback", Access::open(),
             bind(&OidcRoutes::callback));
  const Access owner = Access::role(schema::UserRole::Owner);
  router.add(http::verb::get, "/api/v1/users/{id}/sso", owner, bind(&OidcRoutes::get_links));
  router.add(http::verb::put, "/api/v1/users/{id}/sso", owner, bind(&OidcRoutes::put_link));
  router.add(http::verb::delete_, "/api/v1/users/{id}/sso", owner, bind(&OidcRoutes::delete_link));
}

Response OidcRoutes::not_configured(const Request& req, const RequestContext& ctx) const {
  return make_problem(http::status::not_found, "single sign-on is not configured", ctx,
                      req.version());
}

Response OidcRoutes::info(const Request& req, const RequestContext&) {
  const auto& c = client_.config();
  boost::json::object o{{"enabled", c.enabled()}};
  o["display_name"] = c.enabled() ? boost::json::value(c.display_name) : nullptr;
  return json_response(req, o);
}

Response OidcRoutes::start(const Request& req, const RequestContext& ctx) {
  const auto& c = client_.config();
  if (!c.enabled()) return not_configured(req, ctx);
  std::chrono::seconds retry{1};
  auto taken = starts_.take(std::string(kAllSources), retry);
  if (!taken) return unavailable(req, ctx, taken.error());
  if (!*taken) {
    auto res =
        make_problem(http::status::too_many_requests,
                     "too many single sign-ins started; retry in a second", ctx, req.version());
    res.set(http::field::retry_after, std::to_string(retry.count()));
    return res;
  }
  auto meta = client_.metadata();
  if (!meta) {
    log::warn("auth.sso_provider_failed",
              {{"correlation_id", ctx.correlation_id}, {"error", meta.error().message}});
    return make_problem(http::status::bad_gateway, "the identity provider could not be reached",
                        ctx, req.version());
  }
  const std::string state = random_token();
  const oidc_store::Pending pending{random_token(), random_token()};
  const UnixNanos now = clock_.now();
  const UnixNanos expires = now + c.login_timeout.count() * 1'000'000;
  auto stored = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    if (oidc_store::purge_and_count_pending(tx, now) >= kMaxPending) return false;
    oidc_store::put_pending(tx, state, pending, expires);
    tx.commit();
    return true;
  });
  if (!stored) return unavailable(req, ctx, stored.error());
  if (!*stored) {
    auto res = make_problem(http::status::too_many_requests,
                            "too many single sign-ins under way; retry later", ctx, req.version());
    res.set(http::field::retry_after, "60");
    return res;
  }
  std::string url = meta->authorization_endpoint;
  url += url.find('?') == std::string::npos ? '?' : '&';
  url += form_encode({{"response_type", "code"},
                      {"client_id", c.client_id},
                      {"redirect_uri", c.redirect_uri},
                      {"scope", c.scopes},
                      {"state", state},
                      {"nonce", pending.nonce},
                      {"code_challenge", code_challenge(pending.code_verifier)},
                      {"code_challenge_method", "S256"}});
  return json_response(req,
                       boost::json::object{{"authorization_url", url},
                                           {"state", state},
                                           {"expires_at", format_rfc3339_utc(expires / 1000)}});
}

Response OidcRoutes::callback(const Request& req, const RequestContext& ctx) {
  const auto& c = client_.config();
  if (!c.enabled()) return not_configured(req, ctx);
  auto body = body_object(req);
  auto code = body ? body_string(*body, "code", kMaxCode) : std::nullopt;
  auto state = body ? body_string(*body, "state", 128) : std::nullopt;
  if (!code || !state) {
    return make_problem(http::status::bad_request, "expected {\"code\": string, \"state\": string}",
                        ctx, req.version());
  }
  const UnixNanos now = clock_.now();
  // Taken in its own committed transaction before the provider is asked: a state is spent even
  // when what follows fails.
  auto pending = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    auto p = oidc_store::take_pending(tx, *state, now);
    tx.commit();
    return p;
  });
  if (!pending) return unavailable(req, ctx, pending.error());
  if (!*pending) {
    return make_problem(http::status::bad_request,
                        "this sign-in expired or was already used; start again", ctx,
                        req.version());
  }
  auto claims = client_.redeem(*code, (*pending)->code_verifier, (*pending)->nonce);
  if (!claims) {
    log::warn("auth.sso_failed",
              {{"correlation_id", ctx.correlation_id}, {"error", claims.error().message}});
    if (claims.error().code == Error::Code::kInvalidInput) {
      return make_problem(http::status::unauthorized, "the identity provider's answer was refused",
                          ctx, req.version());
    }
    return make_problem(http::status::bad_gateway, "the identity provider could not be reached",
                        ctx, req.version());
  }
  const bool provider_mfa = std::ranges::find(claims->amr, "mfa") != claims->amr.end();
  if (c.require_mfa && !provider_mfa) {
    log::warn("auth.sso_no_mfa", {{"correlation_id", ctx.correlation_id},
                                  {"issuer", claims->issuer},
                                  {"subject", claims->subject}});
    return make_problem(http::status::forbidden,
                        "the identity provider did not report a second factor (amr \"mfa\")", ctx,
                        req.version());
  }
  using Out = std::variant<Response, boost::json::object>;
  auto out = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& conn) -> Result<Out> {
    pqxx::work tx(conn);
    auto user = oidc_store::linked_user(tx, claims->issuer, claims->subject);
    if (!user) return Out{Response{}};
    if (!provider_mfa && second_factor_) {
      if (auto challenge = second_factor_(tx, user->user, user->role, now)) {
        tx.commit();
        return Out{std::move(*challenge)};
      }
    }
    std::string token = new_session_token();
    const UnixNanos expires = now + session_ttl_.count() * 1'000'000;
    auth_store::create_session(tx, token, user->user, std::nullopt, now, expires);
    auto principal = Authenticator::lookup(tx, token, now);
    if (!principal) return std::unexpected(principal.error());
    boost::json::object o{{"token", token},
                          {"expires_at", format_rfc3339_utc(expires / 1000)},
                          {"user", user_json(*principal)}};
    tx.commit();
    return Out{std::move(o)};
  });
  if (!out) return read_problem(out.error(), req, ctx);
  if (std::holds_alternative<Response>(*out)) {
    log::warn("auth.sso_unlinked", {{"correlation_id", ctx.correlation_id},
                                    {"issuer", claims->issuer},
                                    {"subject", claims->subject},
                                    {"email", claims->email.value_or("")},
                                    {"email_verified", claims->email_verified}});
    return make_problem(http::status::forbidden,
                        "this identity is not linked to a GuruRMM user; an owner can link "
                        "subject '" +
                            claims->subject + "'",
                        ctx, req.version());
  }
  const auto& o = std::get<boost::json::object>(*out);
  if (!o.contains("token")) {
    log::info("auth.sso_second_factor",
              {{"correlation_id", ctx.correlation_id}, {"subject", claims->subject}});
    return json_response(req, o);
  }
  log::info("auth.sso_login", {{"correlation_id", ctx.correlation_id},
                               {"user", std::string(o.at("user").at("id").as_string())},
                               {"subject", claims->subject},
                               {"provider_mfa", provider_mfa}});
  return json_response(req, o);
}

namespace {

// The target of /api/v1/users/{id}/sso: an owner acting as itself (an impersonation session
// links nothing), and a user that exists.
std::optional<Response> link_guard(const Request& req, const RequestContext& ctx,
                                   std::optional<UserId>& target) {
  if (ctx.principal->impersonator) {
    return make_problem(http::status::forbidden, "not while impersonating", ctx, req.version());
  }
  auto parsed = UserId::parse(ctx.param("id"));
  if (!parsed) return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  target = *parsed;
  return std::nullopt;
}

bool user_exists(pqxx::transaction_base& tx, const UserId& user) {
  return !tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid", user.str()).empty();
}

}  // namespace

Response OidcRoutes::get_links(const Request& req, const RequestContext& ctx) {
  std::optional<UserId> target;
  if (auto refused = link_guard(req, ctx, target)) return std::move(*refused);
  auto out = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& conn) {
    pqxx::read_transaction tx(conn);
    std::optional<boost::json::array> links;
    if (!user_exists(tx, *target)) return links;
    links.emplace();
    for (const auto& l : oidc_store::links_of(tx, *target)) {
      links->push_back(boost::json::object{
          {"issuer", l.issuer}, {"subject", l.subject}, {"created_at", l.created_at}});
    }
    return links;
  });
  if (!out) return unavailable(req, ctx, out.error());
  if (!*out) return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  return json_response(req, boost::json::object{{"links", std::move(**out)}});
}

Response OidcRoutes::put_link(const Request& req, const RequestContext& ctx) {
  const auto& c = client_.config();
  if (!c.enabled()) return not_configured(req, ctx);
  std::optional<UserId> target;
  if (auto refused = link_guard(req, ctx, target)) return std::move(*refused);
  auto body = body_object(req);
  auto subject = body ? body_string(*body, "subject", kMaxSubject) : std::nullopt;
  if (!subject || body->size() != 1) {
    return make_problem(http::status::bad_request, "expected {\"subject\": string}", ctx,
                        req.version());
  }
  auto done = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    if (!user_exists(tx, *target)) return false;
    oidc_store::link(tx, c.issuer, *subject, *target, ctx.principal->user);
    tx.commit();
    return true;
  });
  if (!done) return unavailable(req, ctx, done.error());
  if (!*done) return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  log::warn("auth.sso_linked", {{"correlation_id", ctx.correlation_id},
                                {"by", ctx.principal->user.str()},
                                {"user", target->str()},
                                {"subject", *subject}});
  return no_content(req);
}

Response OidcRoutes::delete_link(const Request& req, const RequestContext& ctx) {
  const auto& c = client_.config();
  if (!c.enabled()) return not_configured(req, ctx);
  std::optional<UserId> target;
  if (auto refused = link_guard(req, ctx, target)) return std::move(*refused);
  auto removed = auth_pg_.run(PgPool::Retry::kOnce, [&](pqxx::connection& conn) {
    pqxx::work tx(conn);
    auto n = oidc_store::unlink(tx, c.issuer, *target);
    tx.commit();
    return n;
  });
  if (!removed) return unavailable(req, ctx, removed.error());
  if (*removed == 0) {
    return make_problem(http::status::not_found, "no such resource", ctx, req.version());
  }
  log::warn("auth.sso_unlinked_user", {{"correlation_id", ctx.correlation_id},
                                       {"by", ctx.principal->user.str()},
                                       {"user", target->str()}});
  return no_content(req);
}

}  // namespace rmm::api::oidc
