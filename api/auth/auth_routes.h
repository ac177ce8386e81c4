// /api/v1/auth/*: login, logout, me, impersonate (docs/api.md "Authentication").
//
// Login: {"username", "password"} -> 200 {"token", "expires_at", "user"}; 401 for any bad
// credential (unknown user, wrong password, disabled user: one answer, and an unknown user still
// costs one Argon2id verification); 400 for a malformed body; 429 with Retry-After, in the order
// checked (each before any work of the next):
//   - the process-wide token bucket is empty (`login_burst` at once, `logins_per_second`): per
//     rmm-api on purpose, it bounds the Argon2id work of this process, not of the installation;
//     in memory, so a flood is refused without a query;
//   - the source address (login_source.h) has used its attempts (SourceLimiter, in PostgreSQL so
//     every rmm-api shares it: a success gives its attempt back, so this bounds the failures one
//     address makes over every username; its refusal gives the process-wide token back);
//   - the Argon2id gate is full (PasswordGate: at most so many hashes run or wait);
//   - the username is locked for this source (LockoutPolicy, per username and source address:
//     failures from elsewhere never lock out the owner signing in from its own address).
// A remote stranger can thus neither lock the owner out nor slow every other request: what one
// address can make the server do is bounded by its own bucket.
//
// Second factor (TOTP, totp_routes.cc; docs/api.md): a user with a confirmed authenticator, or
// whose role is in `totp_required`, gets {"second_factor": "totp" | "totp_enroll",
// "pending_token", "expires_at"} instead of a session; POST /auth/login/second-factor with that
// token and a code (or a recovery code) opens the session. A pending sign-in lasts 5 minutes and
// takes 5 codes; failed codes lock the user's second factor (every address) for `lockout`: only
// someone who had the password can cause that.
//
// Logout revokes the session presented (and so every impersonation started from it).
//
// Impersonate (owner only, not while impersonating): {"user_id"} of an enabled user with a lower
// role -> 200 {"token", "expires_at"} for a session of the owner acting as that user.
//
// Concurrency: thread-safe; every handler blocks on PostgreSQL and the login on Argon2id.
#pragma once

#include <boost/json.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string_view>

#include "api/auth/authenticator.h"
#include "api/auth/credential_store.h"
#include "api/auth/login_source.h"
#include "api/auth/password_gate.h"
#include "api/auth/source_limiter.h"
#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/clock.h"

namespace rmm::api {

struct AuthOptions {
  std::chrono::milliseconds session_ttl{12 * 3600'000};
  auth_store::LockoutPolicy lockout;
  double logins_per_second = 5;  // token bucket refill
  double login_burst = 20;       // token bucket size
  SourceLimiter::Options per_source;
  std::vector<boost::asio::ip::address> trusted_proxies;  // whose X-Forwarded-For is believed
  std::vector<schema::UserRole> totp_required;            // roles that must sign in with TOTP
  std::string totp_issuer = "GuruRMM";                    // shown by authenticator apps
};

class AuthRoutes {
 public:
  // `auth_pg` must be a read-write pool (auth.* tables); `read_pg` the read models; `passwords`
  // bounds the Argon2id work (shared with the user intents).
  AuthRoutes(PgPool& auth_pg, PgPool& read_pg, PasswordGate& passwords, const Clock& clock,
             AuthOptions options);

  Response login(const Request& req, const RequestContext& ctx);
  Response logout(const Request& req, const RequestContext& ctx);
  Response me(const Request& req, const RequestContext& ctx);
  Response impersonate(const Request& req, const RequestContext& ctx);

  // totp_routes.cc. For a user past its first factor (a password, or SSO without the provider's
  // mfa), inside the sign-in's transaction: the pending second-factor answer ({"second_factor",
  // "pending_token", "expires_at"}) when its TOTP or its role requires one, else nullopt (then
  // a session). `source` is recorded with the pending sign-in.
  std::optional<boost::json::object> second_factor_challenge(pqxx::transaction_base& tx,
                                                             const UserId& user,
                                                             schema::UserRole role,
                                                             std::string_view source,
                                                             UnixNanos now);
  // Sign-in's second step (open routes, authorized by the pending token):
  Response login_second_factor(const Request& req, const RequestContext& ctx);
  Response login_enroll_totp(const Request& req, const RequestContext& ctx);
  // The signed-in user's own authenticator (not while impersonating):
  Response totp_status(const Request& req, const RequestContext& ctx);
  Response totp_start(const Request& req, const RequestContext& ctx);
  Response totp_confirm(const Request& req, const RequestContext& ctx);
  Response totp_remove(const Request& req, const RequestContext& ctx);
  // An owner removes another user's authenticator (lost device and recovery codes).
  Response totp_reset(const Request& req, const RequestContext& ctx);

 private:
  static constexpr std::chrono::nanoseconds kPendingTtl = std::chrono::minutes(5);
  static constexpr int kPendingAttempts = 5;

  bool take_login_token();
  void give_back_login_token();
  bool totp_required(schema::UserRole role) const;

  PgPool& auth_pg_;
  PgPool& read_pg_;
  PasswordGate& passwords_;
  const Clock& clock_;
  AuthOptions options_;
  SourceLimiter sources_;
  std::mutex bucket_mutex_;
  double bucket_ = 0;
  std::chrono::steady_clock::time_point bucket_at_;
};

}  // namespace rmm::api
