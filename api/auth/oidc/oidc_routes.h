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
// Starts are rate-limited over the installation (one token bucket in auth.source_buckets, kind
// "oidc_start", shared by every rmm-api: 20 at once, 5/s, so the 10,000 sign-ins that may be under
// way cannot all be taken within oidc-login-timeout's default 10 min by a flood, however many
// APIs there are).
// State and PKCE verifier are single use and expire (oidc-login-timeout); the ID token's
// signature, issuer, audience, times and nonce are checked (OidcClient).
//
// Concurrency: thread-safe; handlers block on PostgreSQL and on the provider (bounded by
// oidc-http-timeout).
// Second factor: an ID token whose amr names "mfa" counts as one (the provider asked for it).
// Otherwise the second-factor gate (set_second_factor_gate) decides, as for a password sign-in,
// whether the user must still pass GuruRMM's own (TOTP) and what to answer instead of a session.
// With oidc-require-mfa an ID token without "mfa" is refused outright.
//
// Limitations: one provider. Without a gate set, no GuruRMM second factor is asked after SSO.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <pqxx/pqxx>

#include "api/auth/oidc/oidc_client.h"
#include "api/auth/source_limiter.h"
#include "api/db/pg_pool.h"
#include "api/server/router.h"
#include "common/control_plane_events.h"

namespace rmm::api::oidc {

class OidcRoutes {
 public:
  // `auth_pg` read-write (auth.*); sessions last `session_ttl` like password sign-ins.
  OidcRoutes(OidcConfig config, PgPool& auth_pg, const Clock& clock,
             std::chrono::milliseconds session_ttl);

  void register_routes(Router& router);

  // Inside the sign-in's transaction, for a user whose provider reported no "mfa": the answer to
  // give instead of a session when GuruRMM's own second factor is due (a pending second-factor
  // sign-in, as POST /auth/login answers), or nullopt for a session. Set before serving.
  using SecondFactorGate = std::function<std::optional<boost::json::object>(
      pqxx::transaction_base& tx, const UserId& user, schema::UserRole role, UnixNanos now)>;
  void set_second_factor_gate(SecondFactorGate gate) { second_factor_ = std::move(gate); }

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
  SecondFactorGate second_factor_;
  SourceLimiter starts_;  // one bucket for every source
};

}  // namespace rmm::api::oidc
