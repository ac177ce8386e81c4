// rmm-api's side of the talk with the OpenID Connect provider: discovery (the issuer's
// /.well-known/openid-configuration), its signing keys (JWKS) and the token request that turns
// an authorization code and its PKCE verifier into a verified ID token.
//
// Metadata and keys are cached for an hour; an ID token signed by a key not in the cached set
// refetches the set (at most once a minute, so forged kids cannot make us hammer the provider).
// Every endpoint must be https:// (plain http only to a loopback host), and the discovered issuer
// must equal the configured one exactly.
//
// Concurrency: thread-safe; the mutex guards the caches only, never a network call, so two
// threads may fetch at once (harmless: the last result is kept).
#pragma once

#include <mutex>
#include <optional>

#include "api/auth/oidc/http_fetch.h"
#include "api/auth/oidc/id_token.h"
#include "api/auth/oidc/jws.h"
#include "api/auth/oidc/oidc_config.h"
#include "common/clock.h"

namespace rmm::api::oidc {

struct ProviderMetadata {
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  bool secret_post_only = false;  // the token endpoint lists client_secret_post, not _basic
};

class OidcClient {
 public:
  OidcClient(OidcConfig config, const Clock& clock);

  const OidcConfig& config() const { return config_; }

  Result<ProviderMetadata> metadata();

  // The token request of a code, then the ID token's signature and claims. Errors name the step
  // (for the log), never a secret.
  Result<IdClaims> redeem(std::string_view code, std::string_view code_verifier,
                          std::string_view nonce);

 private:
  Result<boost::json::object> fetch_json(const FetchRequest& request, std::string_view what);
  Result<JwkSet> keys(const ProviderMetadata& meta, bool refresh);

  OidcConfig config_;
  const Clock& clock_;
  FetchOptions fetch_;
  std::mutex mutex_;
  std::optional<ProviderMetadata> meta_;
  std::chrono::steady_clock::time_point meta_at_;
  std::optional<JwkSet> keys_;
  std::chrono::steady_clock::time_point keys_at_;
};

}  // namespace rmm::api::oidc
