// A small pool of blocking libpqxx connections for request handlers.
//
// Connections are opened lazily, on the first acquire() that finds no idle one, with a short
// bounded retry, so rmm-api starts (and /healthz answers) while PostgreSQL is down. Every
// connection is read-only by default (`default_transaction_read_only`) and carries a
// `statement_timeout`, because the API never writes read models and must not hang on a query.
//
// Concurrency: acquire() and Lease release are thread-safe. A Lease's connection belongs to one
// thread at a time. acquire() blocks (connecting, or waiting for a free connection): call it
// from the request worker pool, never from an I/O thread.
// Limitations: no health probing of idle connections; a broken one is dropped when a query on
// it fails and the Lease is discarded (or found closed on release).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <pqxx/connection>
#include <string>
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

  explicit PgPool(Options options);
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // An idle connection, or a new one. Fails (kTimeout) when PostgreSQL cannot be reached within
  // the retry policy or no connection frees up within acquire_timeout; the error message may hold
  // driver text and is for the log only.
  Result<Lease> acquire();

 private:
  void release(std::unique_ptr<pqxx::connection> conn, bool discard);
  Result<std::unique_ptr<pqxx::connection>> open();

  Options options_;
  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  int open_ = 0;  // connections idle, leased or being opened
};

}  // namespace rmm::api
