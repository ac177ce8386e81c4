#include "api/routes/agents.h"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <ctime>
#include <pqxx/result>
#include <pqxx/transaction>

#include "api/problem.h"
#include "common/log.h"

namespace rmm::api {
namespace {

// Timestamps leave PostgreSQL as integer microseconds so formatting and the online check do not
// depend on the session's DateStyle or TimeZone.
constexpr const char* kListAgents = R"sql(
  SELECT id::text, hostname, os, version,
         (extract(epoch FROM first_seen) * 1000000)::bigint,
         (extract(epoch FROM last_seen) * 1000000)::bigint,
         last_seq
  FROM agents
  ORDER BY hostname, id
)sql";

boost::json::value text_or_null(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return boost::json::string(f.c_str(), f.size());
}

boost::json::value time_or_null(const pqxx::field& f) {
  if (f.is_null()) return nullptr;
  return boost::json::string(format_rfc3339_utc(f.as<std::int64_t>()));
}

}  // namespace

std::string format_rfc3339_utc(std::int64_t unix_micros) {
  std::int64_t ms = unix_micros >= 0 ? unix_micros / 1000 : -((-unix_micros + 999) / 1000);
  std::int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  auto millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

Response AgentsRoute::get(const Request& req, const RequestContext& ctx) {
  auto lease = pg_.acquire();
  if (!lease) {
    log::error("agents.db_unavailable",
               {{"correlation_id", ctx.correlation_id}, {"error", lease.error().message}});
    return make_problem(http::status::service_unavailable, "the database is unavailable", ctx,
                        req.version());
  }
  pqxx::result rows;
  try {
    pqxx::read_transaction tx(lease->conn());
    rows = tx.exec(kListAgents);
    tx.commit();
  } catch (...) {
    lease->discard();
    throw;  // the router logs it with the correlation id and answers a generic 500
  }

  const std::int64_t now_us = clock_.now() / 1000;
  const std::int64_t window_us =
      std::chrono::duration_cast<std::chrono::microseconds>(offline_after_).count();
  boost::json::array agents;
  agents.reserve(rows.size());
  for (const auto& row : rows) {
    boost::json::object a;
    a["id"] = text_or_null(row[0]);
    a["hostname"] = text_or_null(row[1]);
    a["os"] = text_or_null(row[2]);
    a["version"] = text_or_null(row[3]);
    a["first_seen"] = time_or_null(row[4]);
    a["last_seen"] = time_or_null(row[5]);
    if (row[6].is_null()) {
      a["last_seq"] = nullptr;
    } else {
      a["last_seq"] = row[6].as<std::int64_t>();
    }
    bool online = !row[5].is_null() && now_us - row[5].as<std::int64_t>() <= window_us;
    a["status"] = online ? "online" : "offline";
    agents.push_back(std::move(a));
  }
  boost::json::object body;
  body["agents"] = std::move(agents);

  Response res{http::status::ok, req.version()};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = boost::json::serialize(body);
  res.prepare_payload();
  return res;
}

}  // namespace rmm::api
