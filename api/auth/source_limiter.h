// How often one source address (login_source.h) may try: a token bucket per source (burst,
// refill per minute) in PostgreSQL (auth.source_buckets, migration 0017), so every rmm-api of an
// installation takes from the same bucket and a restart forgets nothing.
//
// An attempt is taken before any work (a sign-in's Argon2id, an enrollment code's lookup) and
// given back when it succeeds, so the bucket bounds the failures of one address over every
// username or code, while many users behind one NAT can still sign in. Each take is one
// INSERT ... ON CONFLICT DO UPDATE of the source's row: refill by the time since its last take,
// then take one if there is one, atomically (the row lock orders concurrent takes, from any API).
// Times are the injected clock's wall time; a take never moves a row's time backwards, so APIs
// whose clocks differ a little only refill a little late.
//
// Bounded table: a row idle for burst / per_minute minutes is full again, which a missing row also
// means, so such rows are deleted; past `max_sources` rows of a kind, those idle longest are
// deleted too (that only ever gives a source a full bucket again; the per-process bucket of
// AuthRoutes still bounds the total). Each rmm-api cleans up at most every `cleanup_every`, after
// a take, so the table may pass the cap by what arrives in between.
//
// Errors: take() fails (kTimeout) when PostgreSQL cannot be reached: callers answer 503, as for
// any other sign-in step. give_back() is best effort (logged): a lost give-back only costs the
// source one attempt.
//
// Concurrency: thread-safe (PostgreSQL through the pool; the cleanup schedule under a mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

#include "api/db/pg_pool.h"
#include "common/clock.h"
#include "common/result.h"

namespace rmm::api {

class SourceLimiter {
 public:
  struct Options {
    double burst = 10;
    double per_minute = 10;
    std::size_t max_sources = 10'000;  // per kind
    std::chrono::milliseconds cleanup_every{10'000};
  };
  // `pool` must be read-write (the auth pool). `kind` names this limiter's buckets
  // (auth.source_buckets.kind): limiters of different kinds never share a bucket.
  SourceLimiter(PgPool& pool, const Clock& clock, std::string kind, Options options);

  // Takes one attempt from `source`'s bucket: true when taken, false when it is empty
  // (`retry_after` is then how long until the next attempt is allowed).
  Result<bool> take(const std::string& source, std::chrono::seconds& retry_after);
  // Gives back the attempt of a request that succeeded.
  void give_back(const std::string& source);

 private:
  void maybe_clean_up();

  PgPool& pool_;
  const Clock& clock_;
  const std::string kind_;
  const Options options_;
  std::mutex cleanup_mutex_;
  std::chrono::steady_clock::time_point next_cleanup_{};
};

}  // namespace rmm::api
