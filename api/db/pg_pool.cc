#include "api/db/pg_pool.h"

#include <pqxx/except>

#include "common/log.h"

namespace rmm::api {

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->release(std::move(conn_), discard_);
}

PgPool::PgPool(Options options) : options_(std::move(options)) {}

Result<PgPool::Lease> PgPool::acquire() {
  {
    std::unique_lock lock(mutex_);
    bool ready = freed_.wait_for(lock, options_.acquire_timeout,
                                 [&] { return !idle_.empty() || open_ < options_.size; });
    if (!ready) return fail(Error::Code::kTimeout, "no free PostgreSQL connection in time");
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot while connecting outside the lock
  }
  auto conn = open();
  if (!conn) {
    std::lock_guard lock(mutex_);
    --open_;
    freed_.notify_one();
    return std::unexpected(conn.error());
  }
  return Lease(this, std::move(*conn));
}

Result<std::unique_ptr<pqxx::connection>> PgPool::open() {
  auto conn = pg::connect(options_.url, options_.connect_retry);
  if (!conn) return conn;
  try {
    (*conn)->set_variable("statement_timeout", std::to_string(options_.statement_timeout.count()));
    if (options_.read_only) (*conn)->set_variable("default_transaction_read_only", "on");
    (*conn)->set_variable("TimeZone", "'UTC'");
  } catch (const std::exception& e) {
    return failf("configuring PostgreSQL session: {}", e.what());
  }
  log::info("pg.connected", {{"url", pg::redact_url(options_.url)}});
  return conn;
}

void PgPool::release(std::unique_ptr<pqxx::connection> conn, bool discard) {
  bool reuse = !discard && conn->is_open();
  if (!reuse) conn.reset();  // close outside the lock
  std::lock_guard lock(mutex_);
  if (reuse) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  freed_.notify_one();
}

}  // namespace rmm::api
