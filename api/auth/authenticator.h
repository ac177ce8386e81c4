// Resolves the caller of a request from its session token: `Authorization: Bearer <token>`, or
// `?access_token=<token>` in the query (kept for older dashboards: EventSource cannot set
// headers; the header wins when both are present). GET /api/v1/live also takes a single-use
// `?ticket=` (live_tickets.h) when there is neither: the session it was issued for.
//
// A token is 32 random bytes in unpadded base64url (43 characters); only its SHA-256 is stored
// (auth.sessions.token_hash). A session is valid while not revoked, not expired (by the injected
// clock), and its user (and, when impersonating, the owner too) exists in both auth.credentials
// and `users` and is not disabled; an impersonation session also only while the owner's session
// it was started from is valid (logging out ends both). The Principal is that of the acting user
// (see principal.h).
//
// Errors: kTimeout when PostgreSQL is unreachable (answer 503); kInvalidInput for a missing or
// malformed token; kNotFound for an unknown, expired or revoked one (answer 401 for both).
//
// Concurrency: thread-safe; authenticate() blocks on PostgreSQL (worker pool only).
#pragma once

#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <string>
#include <string_view>

#include "api/auth/live_tickets.h"
#include "api/auth/principal.h"
#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/clock.h"
#include "common/result.h"

namespace rmm::api {

class Authenticator {
 public:
  Authenticator(PgPool& pool, const Clock& clock, const LiveTickets* tickets = nullptr)
      : pool_(pool), clock_(clock), tickets_(tickets) {}

  Result<Principal> authenticate(const Request& req) const;

  // The session of `token` at `now` inside the caller's transaction (what authenticate() runs).
  static Result<Principal> lookup(pqxx::transaction_base& tx, std::string_view token,
                                  UnixNanos now);
  // The same by the token's hash (token_hash_hex), for a redeemed ticket.
  static Result<Principal> lookup_hash(pqxx::transaction_base& tx, std::string hash, UnixNanos now);

  // Which of the sessions `hashes` (Principal::session values) are still valid at `now`, by the
  // rules above (what the live hub asks of the streams it serves).
  static std::set<std::string> valid_sessions(pqxx::transaction_base& tx,
                                              const std::set<std::string>& hashes, UnixNanos now);

  // The raw token of a request (header, else ?access_token=), or nullopt.
  static std::optional<std::string> token_of(const Request& req);
  // Lowercase hex SHA-256 of a token, the form used with decode($n, 'hex') in SQL.
  static std::string token_hash_hex(std::string_view token);

 private:
  PgPool& pool_;
  const Clock& clock_;
  const LiveTickets* tickets_;
};

}  // namespace rmm::api
