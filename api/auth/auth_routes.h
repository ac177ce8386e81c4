// /api/v1/auth/*: login, logout, me, impersonate (docs/api.md "Authentication").
//
// Login: {"username", "password"} -> 200 {"token", "expires_at", "user"}; 401 for any bad
// credential (unknown user, wrong password, disabled user: one answer, and an unknown user still
// costs one Argon2id verification); 429 with Retry-After while the username is locked out
// (LockoutPolicy) or when the process-wide login token bucket is empty (bounds Argon2id work to
// `burst` at once and `per_second` on average). 400 for a malformed body.
//
// Impersonate (owner only, not while impersonating): {"user_id"} of an enabled user with a lower
// role -> 200 {"token", "expires_at"} for a session of the owner acting as that user.
//
// Concurrency: thread-safe; every handler blocks on PostgreSQL and the login on Argon2id.
#pragma once

#include <chrono>
#include <mutex>

#include "api/auth/authenticator.h"
#include "api/auth/credential_store.h"
#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/clock.h"

namespace rmm::api {

struct AuthOptions {
  std::chrono::milliseconds session_ttl{12 * 3600'000};
  auth_store::LockoutPolicy lockout;
  double logins_per_second = 5;  // token bucket refill
  double login_burst = 20;       // token bucket size
};

class AuthRoutes {
 public:
  // `auth_pg` must be a read-write pool (auth.* tables); `read_pg` the read models.
  AuthRoutes(PgPool& auth_pg, PgPool& read_pg, const Clock& clock, AuthOptions options);

  Response login(const Request& req, const RequestContext& ctx);
  Response logout(const Request& req, const RequestContext& ctx);
  Response me(const Request& req, const RequestContext& ctx);
  Response impersonate(const Request& req, const RequestContext& ctx);

 private:
  bool take_login_token();

  PgPool& auth_pg_;
  PgPool& read_pg_;
  const Clock& clock_;
  AuthOptions options_;
  std::mutex bucket_mutex_;
  double bucket_ = 0;
  std::chrono::steady_clock::time_point bucket_at_;
};

}  // namespace rmm::api
