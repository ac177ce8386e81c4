// One read transaction on a pooled connection, for the intents' read-model checks.
#pragma once

#include <fmt/format.h>

#include <pqxx/transaction>

#include "api/db/pg_pool.h"
#include "common/result.h"

namespace rmm::api::intents {

// Runs `fn` in a read transaction (again on a new connection if PostgreSQL dropped the first).
// Pool exhaustion or an unreachable database is kTimeout (503); a driver exception is a generic
// error (logged, 500).
template <class T, class Fn>
Result<T> with_read(PgPool& pool, Fn&& fn) {
  try {
    return pool.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
      pqxx::read_transaction tx(c);
      Result<T> out = fn(tx);
      tx.commit();
      return out;
    });
  } catch (const std::exception& e) {
    return fail(fmt::format("read model query: {}", e.what()));
  }
}

}  // namespace rmm::api::intents
