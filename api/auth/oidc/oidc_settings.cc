#include "api/auth/oidc/oidc_settings.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "api/auth/oidc/oidc_url.h"

namespace rmm::api::oidc {
namespace {

Result<std::string> read_secret(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return fail("cannot read the file");
  if ((st.st_mode & 0077) != 0) return fail("the file is readable by others (chmod 600 it)");
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) return fail("cannot read the file");
  std::string secret = text.str();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty() || secret.size() > 4096) return fail("empty, or longer than 4096 bytes");
  return secret;
}

}  // namespace

Result<OidcConfig> oidc_config(const config::Values& values) {
  OidcConfig c;
  c.issuer = values.str("oidc-issuer");
  c.client_id = values.str("oidc-client-id");
  c.redirect_uri = values.str("oidc-redirect-uri");
  c.scopes = values.str("oidc-scopes");
  c.subject_claim = values.str("oidc-subject-claim");
  c.display_name = values.str("oidc-display-name");
  c.ca_file = values.str("oidc-ca-file");
  c.require_mfa = values.flag("oidc-require-mfa");
  c.login_timeout = values.duration("oidc-login-timeout");
  c.http_timeout = values.duration("oidc-http-timeout");
  if (!c.enabled()) return c;
  if (auto u = parse_provider_url(c.issuer, "URL"); !u) {
    return failf("setting 'oidc-issuer': {}", u.error().message);
  }
  if (c.client_id.empty()) return fail("setting 'oidc-client-id': required with oidc-issuer");
  if (c.redirect_uri.empty()) return fail("setting 'oidc-redirect-uri': required with oidc-issuer");
  if (auto u = parse_provider_url(c.redirect_uri, "URL"); !u) {
    return failf("setting 'oidc-redirect-uri': {}", u.error().message);
  }
  if (c.scopes.find("openid") == std::string::npos) {
    return fail("setting 'oidc-scopes': must include openid");
  }
  if (c.subject_claim.empty()) return fail("setting 'oidc-subject-claim': must not be empty");
  if (const auto& path = values.str("oidc-client-secret-file"); !path.empty()) {
    auto secret = read_secret(path);
    if (!secret) {
      return failf("setting 'oidc-client-secret-file' ({}): {}", path, secret.error().message);
    }
    c.client_secret = std::move(*secret);
  }
  return c;
}

}  // namespace rmm::api::oidc
