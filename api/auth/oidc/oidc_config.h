// What rmm-api needs to know to sign users in with one OpenID Connect provider (settings
// oidc-*, api/settings.cc; docs/api.md "Sign-in with OpenID Connect (SSO)").
#pragma once

#include <chrono>
#include <string>

namespace rmm::api::oidc {

struct OidcConfig {
  std::string issuer;  // empty: SSO is off
  std::string client_id;
  std::string client_secret;  // empty: a public client (PKCE alone)
  std::string redirect_uri;
  std::string scopes = "openid profile email";
  std::string subject_claim = "sub";
  std::string display_name = "SSO";
  std::string ca_file;       // extra trusted CAs for the provider's HTTPS
  bool require_mfa = false;  // the ID token's amr must name "mfa"
  std::chrono::milliseconds login_timeout{10 * 60'000};  // start to callback
  std::chrono::milliseconds http_timeout{10'000};

  bool enabled() const { return !issuer.empty(); }
};

}  // namespace rmm::api::oidc
