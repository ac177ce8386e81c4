// rmm-api's oidc-* settings (declared here, listed by api/settings.cc) and the OidcConfig built
// from them. The client secret is read from a file (oidc-client-secret-file), never from a flag
// or the environment, so it shows neither in `ps` nor in a process's environment.
#pragma once

#include <array>

#include "api/auth/oidc/oidc_config.h"
#include "common/config.h"
#include "common/result.h"

namespace rmm::api::oidc {

using config::Setting;
using config::Type;

inline constexpr std::array kOidcSettings = {
    Setting{"oidc-issuer", Type::kString, "",
            "OpenID Connect issuer URL for single sign-on (https://; http only on loopback); "
            "empty disables SSO"},
    Setting{"oidc-client-id", Type::kString, "", "client (application) id registered with it"},
    Setting{"oidc-client-secret-file", Type::kString, "",
            "file holding the client secret (mode 0600); empty: a public client (PKCE only)"},
    Setting{"oidc-redirect-uri", Type::kString, "",
            "redirect URI registered with the provider: the dashboard's root, https://<host>/"},
    Setting{"oidc-scopes", Type::kString, "openid profile email", "scopes asked for"},
    Setting{"oidc-subject-claim", Type::kString, "sub",
            "ID-token claim that identifies a user (Entra ID: oid)"},
    Setting{"oidc-display-name", Type::kString, "SSO", "provider name on the sign-in button"},
    Setting{"oidc-ca-file", Type::kString, "",
            "extra trusted CA certificates (PEM) for the provider's HTTPS"},
    Setting{"oidc-require-mfa", Type::kBool, "false",
            "refuse SSO sign-ins whose ID token's amr does not name \"mfa\""},
    Setting{"oidc-login-timeout", Type::kDuration, "10m",
            "how long a started SSO sign-in may take to come back", 10'000, 3'600'000},
    Setting{"oidc-http-timeout", Type::kDuration, "10s",
            "limit of each call to the provider (discovery, keys, token)", 100, 120'000},
};

// Fails naming the key: a missing client id or redirect URI when an issuer is set, an issuer or
// redirect URI that is not https (or loopback http), an unreadable secret file.
Result<OidcConfig> oidc_config(const config::Values& values);

}  // namespace rmm::api::oidc
