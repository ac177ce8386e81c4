#include "api/intents/reply.h"

#include <charconv>
#include <pqxx/transaction>
#include <thread>

#include "api/problem.h"
#include "api/server/query.h"
#include "common/log.h"
#include "common/projection_position.h"

namespace rmm::api::intents {
namespace {

constexpr std::chrono::milliseconds kPollInterval{25};

Result<std::uint64_t> read_checkpoint(PgPool& pool) {
  try {
    return pool.run(PgPool::Retry::kOnce, [](pqxx::connection& c) -> std::uint64_t {
      pqxx::read_transaction tx(c);
      auto r = tx.exec(std::string(kFoldedThroughSql));
      tx.commit();
      return r.empty() ? 0 : r[0][0].as<std::uint64_t>();
    });
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

}  // namespace

std::unexpected<Error> not_found(std::string what) {
  return fail(Error::Code::kNotFound, std::move(what));
}
std::unexpected<Error> forbidden(std::string what) {
  return fail(Error::Code::kNotSupported, std::move(what));
}
std::unexpected<Error> invalid(std::string what) {
  return fail(Error::Code::kInvalidInput, std::move(what));
}

Result<std::chrono::milliseconds> wait_param(const Request& req) {
  auto text = query_param(req, "wait");
  if (!text) return std::chrono::milliseconds{0};
  long long ms = -1;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), ms);
  if (ec != std::errc() || end != text->data() + text->size() || ms < 0 || ms > kMaxWait.count()) {
    return invalid("'wait' must be milliseconds between 0 and 10000");
  }
  return std::chrono::milliseconds{ms};
}

Result<bool> wait_projected(PgPool& pool, StreamSeq seq, std::chrono::milliseconds wait) {
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    auto cp = read_checkpoint(pool);
    if (!cp) return std::unexpected(cp.error());
    if (*cp >= seq.value) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

Response accepted(PgPool& pool, const Request& req, const RequestContext& ctx,
                  boost::json::object body, StreamSeq seq, std::chrono::milliseconds wait) {
  bool applied = false;
  if (wait.count() > 0) {
    auto done = wait_projected(pool, seq, wait);
    if (done) {
      applied = *done;
    } else {
      log::warn("intent.wait_failed",
                {{"correlation_id", ctx.correlation_id}, {"error", done.error().message}});
    }
  }
  body["stream_seq"] = seq.value;
  body["applied"] = applied;
  Response res{http::status::accepted, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

Response problem_for(const Error& error, const Request& req, const RequestContext& ctx) {
  switch (error.code) {
    case Error::Code::kInvalidInput:
      return make_problem(http::status::bad_request, error.message, ctx, req.version());
    case Error::Code::kNotSupported:
      return make_problem(http::status::forbidden, error.message, ctx, req.version());
    case Error::Code::kNotFound:
      return make_problem(http::status::not_found, error.message, ctx, req.version());
    case Error::Code::kConflict:
      return make_problem(http::status::conflict, error.message, ctx, req.version());
    case Error::Code::kTimeout:
      log::warn("intent.unavailable",
                {{"correlation_id", ctx.correlation_id}, {"error", error.message}});
      return make_problem(http::status::service_unavailable,
                          "a backing service is unavailable; try again", ctx, req.version());
    case Error::Code::kFull:
      log::error("intent.store_full",
                 {{"correlation_id", ctx.correlation_id}, {"error", error.message}});
      return make_problem(http::status::insufficient_storage, error.message, ctx, req.version());
    case Error::Code::kGeneric:
      break;
  }
  log::error("intent.failed", {{"correlation_id", ctx.correlation_id}, {"error", error.message}});
  return internal_error(ctx, req.version());
}

}  // namespace rmm::api::intents
