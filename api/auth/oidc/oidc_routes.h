// Sign-in with OpenID Connect (authorization code + PKCE), docs/api.md "Sign-in with OpenID
// Connect (SSO)":
//
//   GET    /api/v1/auth/oidc            public: {"enabled", "display_name"} (the dashboard's
//   button) POST   /api/v1/auth/oidc/start      public: {"authorization_url", "state",
//   "expires_at"} POST   /api/v1/auth/oidc/callback   public: {"code", "state"} -> the same
//                                       {"token", "expires_at", "user"} as a password sign-in
//   GET/PUT/DELETE /api/v1/users/{id}/sso  owner: the identities linked to a user
//
// Who gets in: only an identity an owner linked to an enabled GuruRMM user (PUT .../sso with the
// provider's subject). A sign-in never creates a user and never grants a role or scope; an
// unlinked identity gets 403 naming its subject (also logged) so an owner can link it.
// State and PKCE verifier are single use and expire (oidc-login-timeout); the ID token's
// signature, issuer, audience, times and nonce are checked (OidcClient).
//
// Concurrency: thread-safe; handlers block on PostgreSQL and on the provider (bounded by
// oidc-http-timeout).
// Limitations: one provider. A second factor is only what the provider reports: with
// oidc-require-mfa the ID token's amr must name "mfa"; GuruRMM's own TOTP is not asked after SSO.
#pragma once

#include <chrono>
#include <memory>

#include "api/auth/oidc/oidc_client.h"
#include "api/db/pg_pool.h"
#include "api/server/router.h"

namespace rmm::api::oidc {

class OidcRoutes {
 public:
  // `auth_pg` read-write (auth.*); sessions last `session_ttl` like password sign-ins.
  OidcRoutes(OidcConfig config, PgPool& auth_pg, const Clock& clock,
             std::chrono::milliseconds session_ttl);

  void register_routes(Router& router);

  Response info(const Request& req, const RequestContext& ctx);
  Response start(const Request& req, const RequestContext& ctx);
  Response callback(const Request& req, const RequestContext& ctx);
  Response get_links(const Request& req, const RequestContext& ctx);
  Response put_link(const Request& req, const RequestContext& ctx);
  Response delete_link(const Request& req, const RequestContext& ctx);

 private:
  Response not_configured(const Request& req, const RequestContext& ctx) const;

  OidcClient client_;
  PgPool& auth_pg_;
  const Clock& clock_;
  std::chrono::milliseconds session_ttl_;
};

}  // namespace rmm::api::oidc
