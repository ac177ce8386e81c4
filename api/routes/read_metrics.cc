// GET /api/v1/agents/{id}/metrics: a time range downsampled server-side to at most `points`
// buckets of `step_s` seconds (date_bin from `from`). Raw samples within the retention window;
// hourly rollups (cpu and memory only) for the part of the range older than it.
// The disk, network and temperature series read metrics_filesystems, metrics_net and
// metrics_temperatures: since migration 0006 these are views over the json lists of the
// `metrics` rows (one row per sample), and the agent and time filters reach the `metrics` index
// through them.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <pqxx/pqxx>
#include <set>

#include "api/auth/principal.h"
#include "api/db/sql_params.h"
#include "api/routes/agents.h"
#include "api/routes/json_reply.h"
#include "api/routes/read_common.h"
#include "api/routes/read_routes.h"
#include "api/server/query.h"

namespace rmm::api {
namespace {

constexpr std::int64_t kUsPerS = 1'000'000;
constexpr int kDefaultPoints = 300;
constexpr int kMaxPoints = 2000;
constexpr std::int64_t kDefaultRangeUs = 24LL * 3600 * kUsPerS;

// Epoch microseconds as `to_timestamp(...)` seconds text.
std::string secs(std::int64_t us) {
  return fmt::format("{}.{:06}", us / kUsPerS, us % kUsPerS);
}

struct Range {
  std::int64_t from_us = 0, to_us = 0, step_s = 0;
};

// Buckets of one query: bucket start (us) -> column -> value.
using Points = std::map<std::int64_t, boost::json::object>;

void collect(const pqxx::result& rows, std::initializer_list<const char*> names, Points& out) {
  for (const auto& r : rows) {
    auto& point = out[r[0].as<std::int64_t>()];
    int i = 1;
    for (const char* name : names) {
      if (!r[i].is_null()) point[name] = r[i].as<double>();
      ++i;
    }
  }
}

std::string bucket_sql(std::string_view column, const Range& range, SqlParams& p) {
  return sql_us("date_bin(make_interval(secs => " + p.bind(std::to_string(range.step_s)) +
                "::double precision), " + std::string(column) + ", to_timestamp(" +
                p.bind(secs(range.from_us)) + "::double precision))");
}

// `table` rows of the agent with `ts_col` in [lo, hi).
std::string window_sql(std::string_view ts_col, const std::string& agent, std::int64_t lo,
                       std::int64_t hi, SqlParams& p) {
  return " WHERE agent_id = " + p.bind(agent) + "::uuid AND " + std::string(ts_col) +
         " >= to_timestamp(" + p.bind(secs(lo)) + "::double precision) AND " + std::string(ts_col) +
         " < to_timestamp(" + p.bind(secs(hi)) + "::double precision)";
}

Result<std::set<std::string>> series_param(const Request& req) {
  static const std::set<std::string> kAll{"cpu", "memory", "disk", "network", "temperature"};
  auto v = query_param(req, "series");
  if (!v) return kAll;
  std::set<std::string> out;
  std::string_view rest = *v;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string item(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (!kAll.contains(item)) {
      return fail(Error::Code::kInvalidInput,
                  "series is a comma list of cpu, memory, disk, network, temperature");
    }
    out.insert(item);
  }
  if (out.empty()) return kAll;
  return out;
}

}  // namespace

Response ReadRoutes::agent_metrics(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    if (!agent_visible(tx, pr, *id)) return fail(Error::Code::kNotFound, "agent");
    const std::int64_t now_us = clock_.now() / 1000;
    Range range;
    range.to_us = now_us;
    if (auto to = query_param(req, "to")) {
      auto t = parse_rfc3339_us(*to);
      if (!t) return std::unexpected(t.error());
      range.to_us = *t;
    }
    range.from_us = range.to_us - kDefaultRangeUs;
    if (auto from = query_param(req, "from")) {
      auto t = parse_rfc3339_us(*from);
      if (!t) return std::unexpected(t.error());
      range.from_us = *t;
    }
    if (range.from_us >= range.to_us) {
      return fail(Error::Code::kInvalidInput, "from must be before to");
    }
    int points = kDefaultPoints;
    if (auto v = query_param(req, "points")) {
      auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), points);
      if (ec != std::errc{} || end != v->data() + v->size() || points < 1 || points > kMaxPoints) {
        return fail(Error::Code::kInvalidInput, "points must be an integer from 1 to 2000");
      }
    }
    auto series = series_param(req);
    if (!series) return std::unexpected(series.error());
    const std::int64_t span_s = (range.to_us - range.from_us + kUsPerS - 1) / kUsPerS;
    range.step_s = std::max<std::int64_t>(1, (span_s + points - 1) / points);

    const std::int64_t cutoff_us = now_us - std::chrono::duration_cast<std::chrono::microseconds>(
                                                options_.raw_metrics_retention)
                                                .count();
    const std::int64_t raw_from = std::max(range.from_us, cutoff_us);
    Points raw, hourly;
    auto want = [&](const char* s) { return series->contains(s); };
    if (raw_from < range.to_us) {
      if (want("cpu") || want("memory")) {
        SqlParams p;
        std::string b = bucket_sql("ts", range, p);
        collect(p.exec(tx, "SELECT " + b +
                               " AS b, avg(cpu_percent)::float8, avg(CASE WHEN mem_total_bytes > 0"
                               " THEN mem_used_bytes * 100.0 / mem_total_bytes END)::float8"
                               " FROM metrics" +
                               window_sql("ts", *id, raw_from, range.to_us, p) +
                               " GROUP BY b ORDER BY b"),
                {"cpu_percent", "memory_percent"}, raw);
      }
      if (want("disk")) {
        SqlParams p;
        std::string b = bucket_sql("ts", range, p);
        collect(p.exec(tx, "SELECT " + b +
                               " AS b, max(used_bytes * 100.0 / NULLIF(total_bytes, 0))::float8"
                               " FROM metrics_filesystems" +
                               window_sql("ts", *id, raw_from, range.to_us, p) +
                               " GROUP BY b ORDER BY b"),
                {"disk_percent_max"}, raw);
      }
      if (want("network")) {
        // Counters per interface: the rate over each bucket, summed over interfaces.
        SqlParams p;
        std::string b = bucket_sql("ts", range, p);
        collect(
            p.exec(tx, "SELECT b, sum(rx)::float8, sum(tx)::float8 FROM (SELECT " + b +
                           " AS b, name,"
                           " GREATEST(max(rx_bytes) - min(rx_bytes), 0) / NULLIF(extract(epoch FROM"
                           " max(ts) - min(ts)), 0) AS rx,"
                           " GREATEST(max(tx_bytes) - min(tx_bytes), 0) / NULLIF(extract(epoch FROM"
                           " max(ts) - min(ts)), 0) AS tx FROM metrics_net" +
                           window_sql("ts", *id, raw_from, range.to_us, p) +
                           " GROUP BY b, name) t GROUP BY b ORDER BY b"),
            {"rx_bytes_per_s", "tx_bytes_per_s"}, raw);
      }
      if (want("temperature")) {
        SqlParams p;
        std::string b = bucket_sql("ts", range, p);
        collect(p.exec(tx, "SELECT " + b + " AS b, max(celsius)::float8 FROM metrics_temperatures" +
                               window_sql("ts", *id, raw_from, range.to_us, p) +
                               " GROUP BY b ORDER BY b"),
                {"temperature_max_c"}, raw);
      }
    }
    if (range.from_us < cutoff_us && (want("cpu") || want("memory"))) {
      SqlParams p;
      std::string b = bucket_sql("hour", range, p);
      collect(p.exec(tx, "SELECT " + b +
                             " AS b, (sum(cpu_sum) / NULLIF(sum(samples), 0))::float8,"
                             " (sum(mem_percent_sum) / NULLIF(sum(samples), 0))::float8"
                             " FROM metrics_hourly" +
                             window_sql("hour", *id, range.from_us,
                                        std::min(cutoff_us, range.to_us), p) +
                             " GROUP BY b ORDER BY b"),
              {"cpu_percent", "memory_percent"}, hourly);
    }
    // Raw wins where both have a bucket (the one straddling the cutoff).
    for (auto& [ts, point] : raw) hourly[ts] = std::move(point);
    const char* kColumns[] = {"cpu_percent",    "memory_percent", "disk_percent_max",
                              "rx_bytes_per_s", "tx_bytes_per_s", "temperature_max_c"};
    boost::json::array out;
    for (auto& [ts, point] : hourly) {
      boost::json::object o{{"ts", format_rfc3339_utc(ts)}};
      for (const char* c : kColumns) {
        auto* v = point.if_contains(c);
        o[c] = v != nullptr ? *v : boost::json::value(nullptr);
      }
      out.push_back(std::move(o));
    }
    return json_response(req, boost::json::object{{"agent_id", *id},
                                                  {"from", format_rfc3339_utc(range.from_us)},
                                                  {"to", format_rfc3339_utc(range.to_us)},
                                                  {"step_s", range.step_s},
                                                  {"points", std::move(out)}});
  });
}

}  // namespace rmm::api
