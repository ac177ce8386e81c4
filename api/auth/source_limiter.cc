#include "api/auth/source_limiter.h"

#include <fmt/format.h>

#include <cmath>
#include <pqxx/pqxx>

#include "api/auth/credential_store.h"
#include "common/log.h"

namespace rmm::api {
namespace {

// The row's tokens refilled up to the take's time: $3 burst, $4 per minute; `b` the stored row,
// EXCLUDED the take. A take never moves the row back in time (GREATEST), so a clock behind
// another API's refills nothing rather than a negative amount.
constexpr std::string_view kRefilled =
    "LEAST($3::float8, b.tokens + $4::float8 / 60 * GREATEST(0, extract(epoch FROM "
    "EXCLUDED.updated_at - b.updated_at)::float8))";

const std::string& take_sql() {
  static const std::string sql = fmt::format(R"sql(
    INSERT INTO auth.source_buckets AS b (kind, source, tokens, taken, updated_at)
    VALUES ($1, $2, $3::float8 - 1, true, to_timestamp($5::double precision))
    ON CONFLICT (kind, source) DO UPDATE
      SET tokens = CASE WHEN {0} >= 1 THEN {0} - 1 ELSE {0} END,
          taken = {0} >= 1,
          updated_at = GREATEST(b.updated_at, EXCLUDED.updated_at)
    RETURNING tokens, taken)sql",
                                             kRefilled);
  return sql;
}

}  // namespace

SourceLimiter::SourceLimiter(PgPool& pool, const Clock& clock, std::string kind, Options options)
    : pool_(pool), clock_(clock), kind_(std::move(kind)), options_(options) {}

Result<bool> SourceLimiter::take(const std::string& source, std::chrono::seconds& retry_after) {
  const UnixNanos now = clock_.now();
  struct Row {
    double tokens = 0;
    bool taken = false;
  };
  auto row = pool_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto r = tx.exec_params1(take_sql(), kind_, source, options_.burst, options_.per_minute,
                             auth_store::pg_seconds(now));
    tx.commit();
    return Row{r[0].as<double>(), r[1].as<bool>()};
  });
  if (!row) return std::unexpected(row.error());
  maybe_clean_up();
  if (row->taken) return true;
  const double minutes = (1 - row->tokens) / options_.per_minute;
  retry_after = std::chrono::seconds(
      std::max<std::int64_t>(1, static_cast<std::int64_t>(std::ceil(minutes * 60))));
  return false;
}

void SourceLimiter::give_back(const std::string& source) {
  auto done = pool_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    tx.exec_params(R"sql(
      UPDATE auth.source_buckets SET tokens = LEAST($3::float8, tokens + 1)
       WHERE kind = $1 AND source = $2)sql",
                   kind_, source, options_.burst);
    tx.commit();
    return true;
  });
  if (!done) {
    log::warn("auth.source_give_back_failed",
              {{"kind", kind_}, {"source", source}, {"error", done.error().message}});
  }
}

void SourceLimiter::maybe_clean_up() {
  {
    std::lock_guard lock(cleanup_mutex_);
    const auto now = clock_.steady_now();
    if (now < next_cleanup_) return;
    next_cleanup_ = now + options_.cleanup_every;
  }
  // Full again after burst / per_minute minutes idle: as good as no row.
  const auto full_after = static_cast<UnixNanos>(options_.burst / options_.per_minute * 60e9);
  const UnixNanos idle_before = clock_.now() - full_after;
  auto done = pool_.run(PgPool::Retry::kOnce, [&](pqxx::connection& c) {
    pqxx::work tx(c);
    auto stale = tx.exec_params(R"sql(
      DELETE FROM auth.source_buckets
       WHERE kind = $1 AND updated_at < to_timestamp($2::double precision))sql",
                                kind_, auth_store::pg_seconds(idle_before));
    // Past the cap: the rows idle longest (ties at the edge go too, so at most the cap stays).
    auto over = tx.exec_params(R"sql(
      DELETE FROM auth.source_buckets
       WHERE kind = $1 AND updated_at <= (
         SELECT updated_at FROM auth.source_buckets WHERE kind = $1
          ORDER BY updated_at DESC OFFSET $2 LIMIT 1))sql",
                               kind_, static_cast<std::int64_t>(options_.max_sources));
    tx.commit();
    return stale.affected_rows() + over.affected_rows();
  });
  if (!done) {
    log::warn("auth.source_cleanup_failed", {{"kind", kind_}, {"error", done.error().message}});
  } else if (*done > 0) {
    log::debug("auth.source_cleanup", {{"kind", kind_}, {"deleted", std::to_string(*done)}});
  }
}

}  // namespace rmm::api
