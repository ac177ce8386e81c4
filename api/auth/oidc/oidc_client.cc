#include "api/auth/oidc/oidc_client.h"

namespace rmm::api::oidc {
namespace {

constexpr auto kCacheFor = std::chrono::hours(1);
constexpr auto kMinRefetch = std::chrono::minutes(1);

std::string str_or_empty(const boost::json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

OidcClient::OidcClient(OidcConfig config, const Clock& clock)
    : config_(std::move(config)),
      clock_(clock),
      fetch_{.timeout = config_.http_timeout, .ca_file = config_.ca_file} {}

Result<boost::json::object> OidcClient::fetch_json(const FetchRequest& request,
                                                   std::string_view what) {
  auto res = http_fetch(request, fetch_);
  if (!res) return std::unexpected(with_context(res.error(), what));
  boost::system::error_code ec;
  auto v = boost::json::parse(res->body, ec);
  if (ec || !v.is_object()) return failf("{}: HTTP {} without a JSON object", what, res->status);
  if (res->status != 200) {
    // OAuth error responses carry "error" (a code, no secret); show it, not the description.
    // A 400 (invalid_grant: a bad, spent or PKCE-mismatched code) is the sign-in's fault, not
    // the provider's.
    std::string error = str_or_empty(v.as_object(), "error").substr(0, 64);
    std::string message = fmt::format("{}: HTTP {} ({})", what, res->status, error);
    if (res->status == 400) return fail(Error::Code::kInvalidInput, std::move(message));
    return fail(std::move(message));
  }
  return std::move(v.as_object());
}

Result<ProviderMetadata> OidcClient::metadata() {
  {
    std::lock_guard lock(mutex_);
    if (meta_ && clock_.steady_now() - meta_at_ < kCacheFor) return *meta_;
  }
  std::string base = config_.issuer;
  if (base.ends_with('/')) base.pop_back();
  auto url = parse_provider_url(base + "/.well-known/openid-configuration", "discovery URL");
  if (!url) return std::unexpected(url.error());
  auto doc = fetch_json({.url = *url}, "provider discovery");
  if (!doc) return std::unexpected(doc.error());
  // The issuer the provider names must be ours exactly (Discovery 4.3): else a document from
  // elsewhere could point us at another provider's keys.
  if (str_or_empty(*doc, "issuer") != config_.issuer) {
    return fail("provider discovery: its issuer differs from setting 'oidc-issuer'");
  }
  ProviderMetadata meta{str_or_empty(*doc, "authorization_endpoint"),
                        str_or_empty(*doc, "token_endpoint"), str_or_empty(*doc, "jwks_uri"),
                        false};
  for (auto [value, name] :
       {std::pair{&meta.authorization_endpoint, "authorization_endpoint"},
        std::pair{&meta.token_endpoint, "token_endpoint"}, std::pair{&meta.jwks_uri, "jwks_uri"}}) {
    if (auto u = parse_provider_url(*value, name); !u) {
      return std::unexpected(with_context(u.error(), "provider discovery"));
    }
  }
  if (const auto* m = doc->if_contains("token_endpoint_auth_methods_supported");
      m != nullptr && m->is_array()) {
    bool basic = false, post = false;
    for (const auto& x : m->as_array()) {
      if (!x.is_string()) continue;
      if (x.as_string() == "client_secret_basic") basic = true;
      if (x.as_string() == "client_secret_post") post = true;
    }
    meta.secret_post_only = post && !basic;
  }
  std::lock_guard lock(mutex_);
  meta_ = meta;
  meta_at_ = clock_.steady_now();
  return meta;
}

Result<JwkSet> OidcClient::keys(const ProviderMetadata& meta, bool refresh) {
  {
    std::lock_guard lock(mutex_);
    auto age = clock_.steady_now() - keys_at_;
    bool fresh = keys_ && age < kCacheFor;
    if (fresh && (!refresh || age < kMinRefetch)) return *keys_;
  }
  auto url = parse_provider_url(meta.jwks_uri, "jwks_uri");
  if (!url) return std::unexpected(url.error());
  auto res = http_fetch({.url = *url}, fetch_);
  if (!res) return std::unexpected(with_context(res.error(), "provider keys"));
  if (res->status != 200) return failf("provider keys: HTTP {}", res->status);
  auto set = parse_jwks(res->body);
  if (!set) return std::unexpected(with_context(set.error(), "provider keys"));
  std::lock_guard lock(mutex_);
  keys_ = *set;
  keys_at_ = clock_.steady_now();
  return *set;
}

Result<IdClaims> OidcClient::redeem(std::string_view code, std::string_view code_verifier,
                                    std::string_view nonce) {
  auto meta = metadata();
  if (!meta) return std::unexpected(meta.error());
  auto url = parse_provider_url(meta->token_endpoint, "token_endpoint");
  if (!url) return std::unexpected(url.error());
  std::vector<std::pair<std::string, std::string>> form{
      {"grant_type", "authorization_code"},
      {"code", std::string(code)},
      {"redirect_uri", config_.redirect_uri},
      {"code_verifier", std::string(code_verifier)}};
  FetchRequest req{.method = "POST", .url = *url, .body = {}, .headers = {}};
  req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  if (config_.client_secret.empty()) {
    form.emplace_back("client_id", config_.client_id);
  } else if (meta->secret_post_only) {
    form.emplace_back("client_id", config_.client_id);
    form.emplace_back("client_secret", config_.client_secret);
  } else {
    // RFC 6749 2.3.1: both parts form-encoded before base64.
    std::string pair =
        percent_encode(config_.client_id) + ":" + percent_encode(config_.client_secret);
    std::string b64 = base64url_encode(pair);
    for (auto& c : b64) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (b64.size() % 4 != 0) b64 += '=';
    req.headers.emplace_back("Authorization", "Basic " + b64);
  }
  req.body = form_encode(form);
  auto tokens = fetch_json(req, "token request");
  if (!tokens) return std::unexpected(tokens.error());
  const auto* id_token = tokens->if_contains("id_token");
  if (id_token == nullptr || !id_token->is_string()) {
    return fail("token request: the answer has no id_token (is 'openid' in oidc-scopes?)");
  }
  std::string_view jws = id_token->as_string();
  auto set = keys(*meta, false);
  if (!set) return std::unexpected(set.error());
  auto claims = verify_jws(jws, *set);
  if (!claims && claims.error().code == Error::Code::kNotFound) {
    // A key rotated since we cached the set.
    set = keys(*meta, true);
    if (!set) return std::unexpected(set.error());
    claims = verify_jws(jws, *set);
  }
  if (!claims) return std::unexpected(with_context(claims.error(), "ID token"));
  return check_id_token(*claims, {.issuer = config_.issuer,
                                  .client_id = config_.client_id,
                                  .nonce = std::string(nonce),
                                  .subject_claim = config_.subject_claim,
                                  .now = clock_.now()});
}

}  // namespace rmm::api::oidc
