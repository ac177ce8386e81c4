// The API's credential store in PostgreSQL (schema `auth`, projector/migrations/0004): password
// hashes, sessions and login failures. Never part of the log; written only by rmm-api (through
// its read-write pool) and by `rmm-api create-user`.
//
// Every function runs inside the caller's transaction; times are passed in (the injected clock).
//
// Concurrency: whatever the transaction allows; record_failure() locks the (username, source) row.
#pragma once

#include <chrono>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/control_plane_events.h"
#include "common/result.h"

namespace rmm::api::auth_store {

struct LoginUser {
  UserId user;
  std::string password_hash;
  schema::UserRole role = schema::UserRole::ReadOnly;
};

// A user who may sign in: a credential row and a `users` row that is not disabled.
std::optional<LoginUser> find_login(pqxx::transaction_base& tx, std::string_view username);

// Writes (or replaces) a user's credential.
void put_credential(pqxx::transaction_base& tx, const UserId& user, std::string_view username,
                    std::string_view password_hash, UnixNanos now);

// True when at least one owner may sign in (credential + users row, role owner, enabled), or,
// with `pending`, has a credential at all (its UserCreated may not be projected yet).
bool owner_exists(pqxx::transaction_base& tx, bool pending);

// The end of the lockout of `username` for sign-ins from `source` (login_source.h), when it is
// locked at `now`. Failures and locks are per (username, source): failures from one address never
// lock the username for anyone signing in from another.
std::optional<UnixNanos> locked_until(pqxx::transaction_base& tx, std::string_view username,
                                      std::string_view source, UnixNanos now);

struct LockoutPolicy {
  int max_failures = 5;                           // within `window`, then locked
  std::chrono::milliseconds window{15 * 60'000};  // failures older than this are forgotten
  std::chrono::milliseconds lockout{15 * 60'000};
};
// Counts a failed login of `username` from `source`; returns true when it locked that pair.
bool record_failure(pqxx::transaction_base& tx, std::string_view username, std::string_view source,
                    UnixNanos now, const LockoutPolicy& policy);
void clear_failures(pqxx::transaction_base& tx, std::string_view username, std::string_view source);

// Stores a session under the SHA-256 of `token`. An impersonation (`acting_as`) names the token of
// the owner's session it is started from (`parent_token`): it is valid only while that one is.
void create_session(pqxx::transaction_base& tx, std::string_view token, const UserId& user,
                    const std::optional<UserId>& acting_as, UnixNanos now, UnixNanos expires_at,
                    std::optional<std::string_view> parent_token = std::nullopt);
// When the live session of `token` expires; nullopt when there is none.
std::optional<UnixNanos> session_expiry(pqxx::transaction_base& tx, std::string_view token,
                                        UnixNanos now);
// Marks the session revoked; false when no live session has that token.
bool revoke_session(pqxx::transaction_base& tx, std::string_view token, UnixNanos now);

// `to_timestamp($n::double precision)` parameter text for a time.
std::string pg_seconds(UnixNanos t);

}  // namespace rmm::api::auth_store
