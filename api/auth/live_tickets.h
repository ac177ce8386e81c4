// Single-use tickets that open one live stream (GET /api/v1/live?ticket=), so the session token
// never travels in a URL (docs/api.md "Live updates"). A ticket is 32 random bytes in unpadded
// base64url like a session token; auth.live_tickets keeps its SHA-256, the hash of the session
// it was issued for and its expiry. Redeeming deletes the row, so a ticket opens at most one
// stream, and yields the session: the stream is then the session's (its principal, scopes and
// revocation), so a ticket never gives more than the session that asked for it.
//
// Concurrency: thread-safe; blocks on PostgreSQL (worker pool only).
// Limitations: expired tickets nobody redeemed are deleted by later issues, not on a timer.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/clock.h"
#include "common/result.h"

namespace rmm::api {

inline constexpr std::chrono::seconds kLiveTicketTtl{30};

class LiveTickets {
 public:
  // `pool`: read-write (rmm-api's auth pool).
  LiveTickets(PgPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}

  // POST /api/v1/live/ticket: 200 {"ticket", "expires_at"} for the caller's session.
  Response issue(const Request& req, const RequestContext& ctx);

  // Takes `ticket` (deleting it) and returns the lowercase hex hash of its session; kNotFound
  // when unknown, used already or expired, kInvalidInput when malformed, kTimeout when
  // PostgreSQL is unreachable.
  Result<std::string> redeem(std::string_view ticket) const;

 private:
  PgPool& pool_;
  const Clock& clock_;
};

}  // namespace rmm::api
