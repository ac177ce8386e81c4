// A small pool of blocking libpqxx connections for request handlers.
//
// Connections are opened lazily, on the first acquire() that finds no idle one, with a short
// bounded retry, so rmm-api starts (and /healthz answers) while PostgreSQL is down. Every
// connection is read-only by default (`default_transaction_read_only`) and carries a
// `statement_timeout`, because the API never writes read models and must not hang on a query.
//
// Stale connections: when PostgreSQL restarts (or a backend is killed), the connections idle in
// the pool are dead although libpq still calls them open, and the first query on one fails
// ("Could not obtain client encoding: not connected"). acquire() therefore looks at an idle
// connection before lending it, without a round trip: the pools never LISTEN, so an idle session
// is sent nothing unless its backend is going away (a notice, then the end of the stream), and a
// connection whose socket has anything to read is closed and replaced by a new one. A
// connection can still die between that look and its query (PostgreSQL stops while the request
// runs): run() retries such work once on a newly opened connection, when the caller says it is
// safe to repeat.
//
// Concurrency: acquire(), run() and Lease release are thread-safe. A Lease's connection belongs
// to one thread at a time. acquire() blocks (connecting, or waiting for a free connection): call
// it from the request worker pool, never from an I/O thread.
// Limitations: the look finds connections whose server closed them (a restart, a killed
// backend); a peer that vanished without closing (a host gone from the network) is found by the
// first query, as before. libpqxx 6.4 leaks the PGresult (~1-9 KiB) of a query that finds its
// connection lost; the look on checkout keeps that to connections lost mid-request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <pqxx/except>
#include <string>
#include <type_traits>
#include <vector>

#include "common/pg.h"
#include "common/result.h"

namespace rmm::api {

class PgPool {
 public:
  struct Options {
    std::string url;
    int size = 4;
    std::chrono::milliseconds statement_timeout{30'000};
    // Read-only sessions (default_transaction_read_only): every pool but the API's own auth store.
    bool read_only = true;
    // How long acquire() waits for a connection when all `size` are in use.
    std::chrono::milliseconds acquire_timeout{30'000};
    pg::RetryPolicy connect_retry{3, std::chrono::milliseconds(100),
                                  std::chrono::milliseconds(400)};
  };

  // A borrowed connection, returned to the pool on destruction.
  class Lease {
   public:
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    ~Lease();
    pqxx::connection& conn() { return *conn_; }
    // The connection is in an unknown state (a query on it threw): close it instead of reusing.
    void discard() { discard_ = true; }

   private:
    friend class PgPool;
    Lease(PgPool* pool, std::unique_ptr<pqxx::connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    PgPool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
    bool discard_ = false;
  };

  // Whether run() may repeat the work after its connection was lost.
  enum class Retry {
    kNever,  // it has effects outside this one transaction (a publish, an earlier commit)
    kOnce,   // reads, or one transaction: see run()
  };

  explicit PgPool(Options options);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // An idle connection that is still open, or a new one (also in place of an idle one found
  // closed). Fails (kTimeout) when PostgreSQL cannot be reached within the retry policy or no
  // connection frees up within acquire_timeout; the error message may hold driver text and is
  // for the log only. `fresh`: a newly opened connection, never an idle one (an idle one is
  // closed to make room when the pool is full).
  Result<Lease> acquire(bool fresh = false);

  // Runs `fn(pqxx::connection&)` on a leased connection and returns what it returns (a Result
  // of its own is passed through). Any exception discards the connection. A lost connection
  // (pqxx::broken_connection) becomes a kTimeout error (the database is unavailable: 503), after
  // one more run on a newly opened connection when `retry` is kOnce. Give kOnce only to work
  // that is safe to run twice: reads, or a single transaction, which libpqxx reports as
  // broken_connection only before its COMMIT was sent (nothing of it was committed); a
  // connection lost during COMMIT is pqxx::in_doubt_error, which propagates like any other
  // exception.
  template <class Fn>
  auto run(Retry retry, Fn&& fn);

  // Connections closed because they were found dead (on checkout or by run()), for tests.
  int stale_dropped() const;

 private:
  template <class T>
  struct AsResult {
    using type = Result<T>;
  };
  template <class T>
  struct AsResult<Result<T>> {
    using type = Result<T>;
  };

  void release(std::unique_ptr<pqxx::connection> conn, bool discard);
  Result<std::unique_ptr<pqxx::connection>> open();
  // Counts a dead connection and logs it with `why`.
  void note_stale(std::string_view why, std::string_view error);

  Options options_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // connections idle, leased or being opened
  int stale_dropped_ = 0;
};

template <class Fn>
auto PgPool::run(Retry retry, Fn&& fn) {
  using Out = typename AsResult<std::invoke_result_t<Fn&, pqxx::connection&>>::type;
  const int attempts = retry == Retry::kOnce ? 2 : 1;
  std::string lost;
  for (int attempt = 0; attempt < attempts; ++attempt) {
    auto lease = acquire(/*fresh=*/attempt > 0);
    if (!lease) return Out(std::unexpected(lease.error()));
    try {
      return Out(fn(lease->conn()));
    } catch (const pqxx::broken_connection& e) {
      lease->discard();
      lost = e.what();
      note_stale(attempt + 1 < attempts ? "lost during a query; retrying" : "lost during a query",
                 lost);
    } catch (...) {
      lease->discard();
      throw;
    }
  }
  return Out(fail(Error::Code::kTimeout, "PostgreSQL connection lost: " + lost));
}

}  // namespace rmm::api
