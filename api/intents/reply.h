// How every intent route answers: 202 with the ids it created and the event's stream_seq, after an
// optional bounded wait for the projector (`?wait=<ms>`, read-your-writes through the core
// projection's checkpoint); and the problem document for each kind of failure.
//
// Error codes of intents map to statuses: kInvalidInput 400, kNotSupported 403 (visible, but the
// role may not do this), kNotFound 404 (also: outside the caller's scopes), kConflict 409,
// kTimeout 503, kFull 507 (its message is meant for the user); anything else is logged and
// answered as a generic 500.
//
// Concurrency: thread-safe; wait blocks the worker thread (polling PostgreSQL every 25 ms, a
// pooled connection held only per poll).
#pragma once

#include <boost/json.hpp>
#include <chrono>

#include "api/db/pg_pool.h"
#include "api/server/http.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::api::intents {

inline constexpr std::chrono::milliseconds kMaxWait{10'000};

// ?wait=<ms> (0..10000); 0 when absent; kInvalidInput when malformed.
Result<std::chrono::milliseconds> wait_param(const Request& req);

// Polls how far the read models are folded (common/projection_position.h) until it reaches `seq`:
// true when it did within `wait`.
Result<bool> wait_projected(PgPool& pool, StreamSeq seq, std::chrono::milliseconds wait);

// 202 {..body, "stream_seq", "applied"}; with wait > 0, waits first ("applied" true when the
// projector caught up). A failed wait (database down) is logged and answered applied:false.
Response accepted(PgPool& pool, const Request& req, const RequestContext& ctx,
                  boost::json::object body, StreamSeq seq, std::chrono::milliseconds wait);

Response problem_for(const Error& error, const Request& req, const RequestContext& ctx);

// Convenience: errors of each kind with a client-facing message.
std::unexpected<Error> not_found(std::string what);
std::unexpected<Error> forbidden(std::string what);
std::unexpected<Error> invalid(std::string what);

}  // namespace rmm::api::intents
