#include "api/db/pg_pool.h"

#include <poll.h>

#include <cerrno>

#include "common/log.h"

namespace rmm::api {
namespace {

// Whether an idle connection may be lent, as far as can be told without a round trip. The pools
// never LISTEN, so an idle session is sent nothing: a readable socket means the server is
// closing it (a notice saying why, then the end of the stream; libpq notices neither until it
// reads) or, rarely, that a configuration reload reported a setting. Either way a new connection
// is the safe choice. Fills `why` when the answer is no.
bool still_open(pqxx::connection& conn, std::string& why) {
  if (!conn.is_open()) {
    why = "closed";
    return false;
  }
  pollfd p{conn.sock(), POLLIN, 0};
  int ready = -1;
  for (int i = 0; i < 3; ++i) {  // poll() with no wait is interrupted only by a signal
    ready = ::poll(&p, 1, 0);
    if (ready >= 0 || errno != EINTR) break;
  }
  if (ready == 0) return true;
  why = ready < 0                     ? "poll failed"
        : (p.revents & POLLNVAL) != 0 ? "socket closed"
                                      : "the server wrote to the idle session (it is closing it)";
  return false;
}

}  // namespace

PgPool::Lease::Lease(Lease&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), discard_(other.discard_) {
  other.pool_ = nullptr;
}

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->release(std::move(conn_), discard_);
}

PgPool::PgPool(Options options) : options_(std::move(options)) {}

Result<PgPool::Lease> PgPool::acquire(bool fresh) {
  std::unique_ptr<pqxx::connection> idle;
  {
    std::unique_lock lock(mutex_);
    bool ready = freed_.wait_for(lock, options_.acquire_timeout,
                                 [&] { return !idle_.empty() || open_ < options_.size; });
    if (!ready) return fail(Error::Code::kTimeout, "no free PostgreSQL connection in time");
    if (!idle_.empty() && !(fresh && open_ < options_.size)) {
      idle = std::move(idle_.back());  // to lend, or (fresh, pool full) to close for room
      idle_.pop_back();
    } else {
      ++open_;  // reserve the slot while connecting outside the lock
    }
  }
  if (idle) {
    if (!fresh) {
      std::string why;
      if (still_open(*idle, why)) return Lease(this, std::move(idle));
      note_stale("found closed on checkout", why);
    }
    idle.reset();  // its slot, still counted in open_, goes to the new connection
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

void PgPool::note_stale(std::string_view why, std::string_view error) {
  {
    std::lock_guard lock(mutex_);
    ++stale_dropped_;
  }
  log::warn("pg.connection_dropped", {{"url", pg::redact_url(options_.url)},
                                      {"why", std::string(why)},
                                      {"error", std::string(error)}});
}

int PgPool::stale_dropped() const {
  std::lock_guard lock(mutex_);
  return stale_dropped_;
}

}  // namespace rmm::api
