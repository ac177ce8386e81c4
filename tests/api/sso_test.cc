// Sign-in with OpenID Connect against a real provider (oidc-provider in node, tests/fixtures/oidc)
// and a real PostgreSQL: authorization code + PKCE through the provider's own login and consent,
// ID tokens RS256 and ES256, identities linked by an owner, single-use state, refused tokens.
#include <doctest/doctest.h>
#include <sodium.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/auth/oidc/id_token.h"
#include "api/auth/oidc/jws.h"
#include "api/auth/oidc/oidc_settings.h"
#include "api/auth/oidc/oidc_url.h"
#include "api/auth/totp.h"
#include "common/pg.h"
#include "tests/api/api_env.h"
#include "tests/fixtures/oidc_provider.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

const std::string kRedirect = "http://127.0.0.1:9/sso-callback";

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The provider and an rmm-api configured for one of its clients.
struct SsoStack {
  explicit SsoStack(const std::string& client_id, const Clock& clock = real_clock(),
                    bool require_mfa = false)
      : provider(kRedirect), env("sso", clock, [&](api::ApiConfig& c) {
          c.oidc.issuer = provider.issuer();
          c.oidc.client_id = client_id;
          c.oidc.client_secret = OidcProviderFixture::kClientSecret;
          c.oidc.redirect_uri = kRedirect;
          c.oidc.require_mfa = require_mfa;
        }) {
    env.exec(read_text(fs::path(RMM_SOURCE_DIR) / "projector/migrations/0016_oidc_sign_in.sql"));
    owner_id = env.add_user("owner", "owner", {});
    owner = env.login("owner");
  }

  // POST start: the authorization URL and its state.
  std::pair<std::string, std::string> start() const {
    auto res = env.send("POST", "/api/v1/auth/oidc/start", "");
    REQUIRE_MESSAGE(res.status == 200, res.body);
    auto o = parse_object(res.body);
    return {std::string(o.at("authorization_url").as_string()),
            std::string(o.at("state").as_string())};
  }

  HttpResponse callback(const std::string& code, const std::string& state) const {
    return env.send("POST", "/api/v1/auth/oidc/callback", "",
                    boost::json::serialize(boost::json::object{{"code", code}, {"state", state}}));
  }

  // The whole sign-in of `account`, as the dashboard does it.
  HttpResponse sign_in(const std::string& account, bool mfa = false) const {
    auto [url, state] = start();
    std::string back = provider.authorize(url, account, mfa);
    REQUIRE(query_param(back, "state") == state);
    return callback(query_param(back, "code"), state);
  }

  void link(const std::string& user_id, const std::string& subject) const {
    auto res = env.send("PUT", "/api/v1/users/" + user_id + "/sso", owner,
                        boost::json::serialize(boost::json::object{{"subject", subject}}));
    REQUIRE_MESSAGE(res.status == 204, res.body);
  }

  OidcProviderFixture provider;
  ApiEnv env;
  std::string owner_id;
  std::string owner;
};

std::int64_t count(const ApiEnv& env, const std::string& table) {
  auto conn = pg::connect(env.pg_url());
  REQUIRE(conn.has_value());
  pqxx::nontransaction tx(**conn);
  return tx.exec("SELECT count(*) FROM " + table)[0][0].as<std::int64_t>();
}

}  // namespace

TEST_CASE("sso: an identity an owner linked signs in (RS256); an unlinked one gets nothing") {
  SsoStack s("rmm-rs");
  const std::string tech = s.env.add_user("tech", "technician", {{"global", kNilUuid}});

  auto info = parse_object(s.env.get("/api/v1/auth/oidc", "").body);
  CHECK(info.at("enabled").as_bool());

  // Not linked yet: refused, the subject named for the owner, and no user created.
  const auto users_before = count(s.env, "users");
  auto refused = s.sign_in("alice");
  check_problem(refused, 403);
  CHECK(refused.body.find("'alice'") != std::string::npos);
  CHECK(count(s.env, "users") == users_before);
  CHECK(count(s.env, "auth.sessions") == 1);  // the owner's only

  // Only an owner links; a technician (or anyone lower) cannot.
  const std::string tech_token = s.env.login("tech");
  auto by_tech =
      s.env.send("PUT", "/api/v1/users/" + tech + "/sso", tech_token, R"({"subject":"alice"})");
  CHECK(by_tech.status == 403);
  s.link(tech, "alice");
  auto links = parse_object(s.env.get("/api/v1/users/" + tech + "/sso", s.owner).body);
  REQUIRE(links.at("links").as_array().size() == 1);
  CHECK(links.at("links").as_array()[0].at("issuer").as_string() == s.provider.issuer());

  // Linked: the same session as a password sign-in, with GuruRMM's role, not the provider's.
  auto ok = s.sign_in("alice");
  REQUIRE_MESSAGE(ok.status == 200, ok.body);
  auto body = parse_object(ok.body);
  CHECK(body.at("user").at("username").as_string() == "tech");
  CHECK(body.at("user").at("role").as_string() == "technician");
  const std::string token(body.at("token").as_string());
  auto me = s.env.get("/api/v1/auth/me", token);
  REQUIRE(me.status == 200);
  CHECK(parse_object(me.body).at("id").as_string() == tech);

  // Another account of the same provider is still nobody.
  check_problem(s.sign_in("mallory"), 403);

  // Unlinked again: no new sessions.
  CHECK(s.env.send("DELETE", "/api/v1/users/" + tech + "/sso", s.owner).status == 204);
  check_problem(s.sign_in("alice"), 403);
}

TEST_CASE("sso: state and PKCE verifier are single use and bound to their sign-in (ES256)") {
  SsoStack s("rmm-es");
  const std::string admin = s.env.add_user("adm", "admin", {{"global", kNilUuid}});
  s.link(admin, "bob");

  auto [url, state] = s.start();
  std::string back = s.provider.authorize(url, "bob");
  const std::string code = query_param(back, "code");
  auto first = s.callback(code, state);
  REQUIRE_MESSAGE(first.status == 200, first.body);
  // The same state again (a replayed callback): refused before the provider is asked.
  check_problem(s.callback(code, state), 400);
  check_problem(s.callback(code, "never-issued"), 400);

  // A code from one sign-in presented with another sign-in's state: that state's PKCE verifier
  // does not match the code's challenge, so the provider refuses the code (and the state is spent).
  auto [url1, state1] = s.start();
  auto [url2, state2] = s.start();
  std::string back1 = s.provider.authorize(url1, "bob");
  check_problem(s.callback(query_param(back1, "code"), state2), 401);
  check_problem(s.callback(query_param(back1, "code"), state2), 400);
}

TEST_CASE("sso: a started sign-in expires after oidc-login-timeout; starts are rate-limited") {
  FakeClock clock(real_clock().now());
  SsoStack s("rmm-rs", clock);
  s.link(s.env.add_user("late", "technician", {{"global", kNilUuid}}), "carol");
  auto [url, state] = s.start();
  std::string back = s.provider.authorize(url, "carol");
  clock.advance(11min);
  check_problem(s.callback(query_param(back, "code"), state), 400);

  // 20 at once, then 5 a second (the fake clock stands still: none refill).
  for (int i = 0; i < 20; ++i)
    REQUIRE(s.env.send("POST", "/api/v1/auth/oidc/start", "").status == 200);
  auto refused = s.env.send("POST", "/api/v1/auth/oidc/start", "");
  check_problem(refused, 429);
  CHECK(refused.headers.at("retry-after") == "1");
  clock.advance(1s);
  CHECK(s.env.send("POST", "/api/v1/auth/oidc/start", "").status == 200);
  CHECK(count(s.env, "auth.oidc_pending") == 21);  // the first was spent by its callback
}

TEST_CASE("sso: with oidc-require-mfa only an ID token whose amr names mfa signs in") {
  SsoStack s("rmm-rs", real_clock(), /*require_mfa=*/true);
  s.link(s.env.add_user("dave", "admin", {{"global", kNilUuid}}), "dave");
  check_problem(s.sign_in("dave", /*mfa=*/false), 403);
  auto ok = s.sign_in("dave", /*mfa=*/true);
  CHECK_MESSAGE(ok.status == 200, ok.body);
}

// GuruRMM's own second factor (the gate the TOTP sign-in provides) is asked after SSO unless the
// provider reports it did MFA itself.
TEST_CASE("sso: a second factor due for the role is asked unless the provider reported mfa") {
  SsoStack s("rmm-rs");
  s.link(s.env.add_user("boss", "admin", {{"global", kNilUuid}}), "frank");
  s.link(s.env.add_user("tech2", "technician", {{"global", kNilUuid}}), "gina");
  int asked = 0;
  s.env.app().oidc().set_second_factor_gate([&](pqxx::transaction_base&, const UserId&,
                                                schema::UserRole role,
                                                UnixNanos) -> std::optional<boost::json::object> {
    ++asked;
    if (role != schema::UserRole::Admin) return std::nullopt;
    return boost::json::object{{"second_factor", "totp"}, {"pending_token", "p"}};
  });
  const auto sessions = count(s.env, "auth.sessions");
  auto challenged = s.sign_in("frank");
  REQUIRE_MESSAGE(challenged.status == 200, challenged.body);
  auto body = parse_object(challenged.body);
  CHECK(body.at("second_factor").as_string() == "totp");
  CHECK_FALSE(body.contains("token"));
  CHECK(count(s.env, "auth.sessions") == sessions);
  CHECK(asked == 1);

  auto with_mfa = s.sign_in("frank", /*mfa=*/true);
  REQUIRE_MESSAGE(with_mfa.status == 200, with_mfa.body);
  CHECK(parse_object(with_mfa.body).contains("token"));
  CHECK(asked == 1);  // not asked: the provider did MFA

  auto tech = s.sign_in("gina");
  REQUIRE_MESSAGE(tech.status == 200, tech.body);
  CHECK(parse_object(tech.body).contains("token"));
  CHECK(asked == 2);
}

// The gate rmm-api sets: a user with GuruRMM's TOTP signs in through SSO, then gives its second
// factor (here a recovery code: the code of the step just used to confirm is not good twice).
TEST_CASE("sso: a user with TOTP gets the pending challenge after SSO and finishes with it") {
  SsoStack s("rmm-rs");
  const std::string boss = s.env.add_user("boss", "admin", {{"global", kNilUuid}});
  s.link(boss, "frank");
  const std::string session = s.env.login("boss");
  auto started = s.env.send("POST", "/api/v1/auth/totp", session, "{}");
  REQUIRE_MESSAGE(started.status == 200, started.body);
  auto secret =
      api::totp::from_base32(std::string_view(parse_object(started.body).at("secret").as_string()));
  REQUIRE(secret.has_value());
  const std::string code =
      api::totp::hotp(*secret, static_cast<std::uint64_t>(api::totp::step_at(real_clock().now())));
  auto confirmed = s.env.send("POST", "/api/v1/auth/totp/confirm", session,
                              boost::json::serialize(boost::json::object{{"code", code}}));
  REQUIRE_MESSAGE(confirmed.status == 200, confirmed.body);
  const auto codes = parse_object(confirmed.body);
  const std::string recovery(codes.at("recovery_codes").as_array().at(0).as_string());

  const auto sessions = count(s.env, "auth.sessions");
  auto challenged = s.sign_in("frank");
  REQUIRE_MESSAGE(challenged.status == 200, challenged.body);
  auto body = parse_object(challenged.body);
  CHECK(body.at("second_factor").as_string() == "totp");
  CHECK_FALSE(body.contains("token"));
  CHECK(count(s.env, "auth.sessions") == sessions);
  auto done =
      s.env.send("POST", "/api/v1/auth/login/second-factor", "",
                 boost::json::serialize(boost::json::object{
                     {"pending_token", body.at("pending_token")}, {"recovery_code", recovery}}));
  REQUIRE_MESSAGE(done.status == 200, done.body);
  const std::string token(parse_object(done.body).at("token").as_string());
  CHECK(parse_object(s.env.get("/api/v1/auth/me", token).body).at("id").as_string() == boss);
}

// The ID-token checks on real tokens of the provider: signature, algorithm, claims.
TEST_CASE("sso: ID tokens are refused when forged, of another client, stale or of another nonce") {
  OidcProviderFixture provider(kRedirect);
  // A token as the provider issues it, fetched like rmm-api does.
  const std::string verifier(43, 'v');
  const std::string challenge = [&] {
    unsigned char h[32];
    crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(verifier.data()), verifier.size());
    return api::oidc::base64url_encode(std::string_view(reinterpret_cast<char*>(h), 32));
  }();
  std::string url = provider.issuer() + "/auth?" +
                    api::oidc::form_encode({{"client_id", "rmm-rs"},
                                            {"response_type", "code"},
                                            {"scope", "openid"},
                                            {"redirect_uri", kRedirect},
                                            {"state", "s"},
                                            {"nonce", "the-nonce"},
                                            {"code_challenge", challenge},
                                            {"code_challenge_method", "S256"}});
  std::string back = provider.authorize(url, "erin");
  const std::string basic = [] {
    std::string pair = std::string("rmm-rs:") + OidcProviderFixture::kClientSecret;
    std::string out(sodium_base64_ENCODED_LEN(pair.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(pair.data()),
                      pair.size(), sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();
    return "Basic " + out;
  }();
  auto tokens = http_request(
      provider.port(), "POST", "/token",
      api::oidc::form_encode({{"grant_type", "authorization_code"},
                              {"code", query_param(back, "code")},
                              {"redirect_uri", kRedirect},
                              {"code_verifier", verifier}}),
      {{"Content-Type", "application/x-www-form-urlencoded"}, {"Authorization", basic}});
  REQUIRE_MESSAGE(tokens.status == 200, tokens.body);
  const std::string id_token(parse_object(tokens.body).at("id_token").as_string());
  auto jwks = api::oidc::parse_jwks(http_get(provider.port(), "/jwks").body);
  REQUIRE(jwks.has_value());
  CHECK(jwks->keys.size() == 2);

  auto claims = api::oidc::verify_jws(id_token, *jwks);
  REQUIRE_MESSAGE(claims.has_value(), claims.error().message);
  api::oidc::IdTokenExpect expect{.issuer = provider.issuer(),
                                  .client_id = "rmm-rs",
                                  .nonce = "the-nonce",
                                  .now = real_clock().now()};
  auto good = api::oidc::check_id_token(*claims, expect);
  REQUIRE_MESSAGE(good.has_value(), good.error().message);
  CHECK(good->subject == "erin");

  auto parts = [&] {
    auto d1 = id_token.find('.');
    auto d2 = id_token.find('.', d1 + 1);
    return std::array{id_token.substr(0, d1), id_token.substr(d1 + 1, d2 - d1 - 1),
                      id_token.substr(d2 + 1)};
  }();
  auto b64 = [](const std::string& s) { return api::oidc::base64url_encode(s); };
  auto payload = *api::oidc::base64url_decode(parts[1]);
  // Another subject under the genuine signature.
  std::string forged = payload;
  forged.replace(forged.find("\"erin\""), 6, "\"root\"");
  CHECK_FALSE(api::oidc::verify_jws(parts[0] + "." + b64(forged) + "." + parts[2], *jwks));
  // alg "none" and an HMAC keyed with something public are never accepted.
  CHECK_FALSE(api::oidc::verify_jws(b64(R"({"alg":"none"})") + "." + parts[1] + ".", *jwks));
  CHECK_FALSE(api::oidc::verify_jws(
      b64(R"({"alg":"HS256","kid":"RS256-test"})") + "." + parts[1] + "." + parts[2], *jwks));
  // An unknown key id asks for a refresh of the key set.
  auto unknown = api::oidc::verify_jws(
      b64(R"({"alg":"RS256","kid":"other"})") + "." + parts[1] + "." + parts[2], *jwks);
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().code == Error::Code::kNotFound);

  auto refused = [&](api::oidc::IdTokenExpect e) {
    return !api::oidc::check_id_token(*claims, e).has_value();
  };
  CHECK(refused({.issuer = provider.issuer() + "/",
                 .client_id = "rmm-rs",
                 .nonce = "the-nonce",
                 .now = expect.now}));
  CHECK(refused({.issuer = provider.issuer(),
                 .client_id = "rmm-es",
                 .nonce = "the-nonce",
                 .now = expect.now}));
  CHECK(refused(
      {.issuer = provider.issuer(), .client_id = "rmm-rs", .nonce = "other", .now = expect.now}));
  CHECK(refused({.issuer = provider.issuer(),
                 .client_id = "rmm-rs",
                 .nonce = "the-nonce",
                 .now = expect.now + 2 * 3600 * 1'000'000'000LL}));  // past exp
  CHECK(refused({.issuer = provider.issuer(),
                 .client_id = "rmm-rs",
                 .nonce = "the-nonce",
                 .now = expect.now - 10 * 60 * 1'000'000'000LL}));  // iat in the future
}

TEST_CASE("sso: provider URLs must be https, plain http only on loopback") {
  using api::oidc::parse_provider_url;
  CHECK(parse_provider_url("https://login.microsoftonline.com/t/v2.0", "x").has_value());
  CHECK(parse_provider_url("http://127.0.0.1:5556", "x").has_value());
  CHECK(parse_provider_url("http://localhost:5556/x", "x").has_value());
  CHECK(parse_provider_url("http://[::1]:5556/x", "x").has_value());
  CHECK_FALSE(parse_provider_url("http://login.example.com", "x").has_value());
  CHECK_FALSE(parse_provider_url("http://127.0.0.1.example.com", "x").has_value());
  CHECK_FALSE(parse_provider_url("https://user@host/", "x").has_value());
  CHECK_FALSE(parse_provider_url("ftp://host/", "x").has_value());

  // The setting refuses a plain-http issuer elsewhere, naming the key.
  const char* argv[] = {"rmm-api", "--oidc-issuer=http://idp.example.com", "--oidc-client-id=x",
                        "--oidc-redirect-uri=https://rmm.example.com/sso-callback"};
  auto values = config::Values::load(api::settings(), 4, argv);
  REQUIRE(values.has_value());
  auto c = api::to_config(*values);
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().message.find("oidc-issuer") != std::string::npos);
}

// HTTPS to the provider: its certificate must chain to a trusted CA and name the host. The test
// CA is trusted only through oidc-ca-file.
TEST_CASE("sso: an https provider is used only when its certificate verifies") {
  TempDir tls("oidc-tls");
  OidcProviderFixture provider(kRedirect, tls.path().string());
  auto with_ca = [&](bool trust) {
    return [&, trust](api::ApiConfig& c) {
      c.oidc.issuer = provider.issuer();
      c.oidc.client_id = "rmm-rs";
      c.oidc.client_secret = OidcProviderFixture::kClientSecret;
      c.oidc.redirect_uri = kRedirect;
      if (trust) c.oidc.ca_file = provider.ca_file();
    };
  };
  {
    ApiEnv env("sso_tls", real_clock(), with_ca(true));
    env.exec(read_text(fs::path(RMM_SOURCE_DIR) / "projector/migrations/0016_oidc_sign_in.sql"));
    auto res = env.send("POST", "/api/v1/auth/oidc/start", "");
    REQUIRE_MESSAGE(res.status == 200, res.body);
    auto url = std::string(parse_object(res.body).at("authorization_url").as_string());
    CHECK(url.rfind(provider.issuer() + "/auth?", 0) == 0);
  }
  {
    ApiEnv env("sso_tls", real_clock(), with_ca(false));
    env.exec(read_text(fs::path(RMM_SOURCE_DIR) / "projector/migrations/0016_oidc_sign_in.sql"));
    check_problem(env.send("POST", "/api/v1/auth/oidc/start", ""), 502);
  }
}
