// GET /api/v1/agents/{id}/metrics: a time range downsampled server-side to at most `points`
// buckets of `step_s` seconds. Raw samples within the retention window; hourly rollups (cpu and
// memory only) for the part of the range older than it. Buckets are binned from the later of
// `from` and the agent's first data in the range, so none is stamped before either (a new
// agent's first bucket is its first sample, not a time it did not exist).
// Network rates come from each sample's delta to the previous sample of the same interface
// (lag() over the agent's samples), then are averaged per bucket: a bucket holding one sample
// still has a rate, whatever the step. `no_source` names the series the agent sent samples
// without (no temperature sensors, no interfaces): the answer says so instead of all nulls.
// The disk, network and temperature series read metrics_filesystems, metrics_net and
// metrics_temperatures: since migration 0006 these are views over the json lists of the
// `metrics` rows (one row per sample), and the agent and time filters reach the `metrics` index
// through them.
#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <map>
#include <optional>
#include <pqxx/pqxx>
#include <set>
#include <vector>

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
// Counter deltas over a longer gap (agent offline) say little about any one bucket: dropped.
// Also how far before the range the previous sample of its first one is looked for.
constexpr std::int64_t kMaxRateGapS = 3600;

// Epoch microseconds as `to_timestamp(...)` seconds text.
std::string secs(std::int64_t us) {
  return fmt::format("{}.{:06}", us / kUsPerS, us % kUsPerS);
}

struct Range {
  std::int64_t from_us = 0, to_us = 0, step_s = 0;
  std::int64_t origin_us = 0;  // where buckets are binned from: >= from_us
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
                p.bind(secs(range.origin_us)) + "::double precision))");
}

// `table` rows of the agent with `ts_col` in [lo, hi).
std::string window_sql(std::string_view ts_col, const std::string& agent, std::int64_t lo,
                       std::int64_t hi, SqlParams& p) {
  return " WHERE agent_id = " + p.bind(agent) + "::uuid AND " + std::string(ts_col) +
         " >= to_timestamp(" + p.bind(secs(lo)) + "::double precision) AND " + std::string(ts_col) +
         " < to_timestamp(" + p.bind(secs(hi)) + "::double precision)";
}

// Per interface, the counter delta of each sample to the one before it over the time between
// them (a counter that went down was reset, by a reboot or a driver: it counted up from zero, so
// its value is the delta), summed over interfaces per sample, then averaged per bucket.
std::string network_sql(const std::string& agent, const Range& range, std::int64_t lo,
                        SqlParams& p) {
  return fmt::format(
      R"sql(SELECT b, avg(rx)::float8, avg(tx)::float8 FROM (
  SELECT {bucket} AS b, ts,
         sum((CASE WHEN rx_bytes >= prev_rx THEN rx_bytes - prev_rx ELSE rx_bytes END)
             / extract(epoch FROM ts - prev_ts)) AS rx,
         sum((CASE WHEN tx_bytes >= prev_tx THEN tx_bytes - prev_tx ELSE tx_bytes END)
             / extract(epoch FROM ts - prev_ts)) AS tx
    FROM (SELECT ts, rx_bytes, tx_bytes, lag(ts) OVER w AS prev_ts, lag(rx_bytes) OVER w AS prev_rx,
                 lag(tx_bytes) OVER w AS prev_tx
            FROM metrics_net {window} WINDOW w AS (PARTITION BY name ORDER BY ts)) s
   WHERE ts > prev_ts AND ts >= to_timestamp({lo}::double precision)
     AND ts - prev_ts <= make_interval(secs => {gap}::double precision)
   GROUP BY b, ts) per_sample
GROUP BY b ORDER BY b)sql",
      fmt::arg("bucket", bucket_sql("ts", range, p)),
      fmt::arg("window", window_sql("ts", agent, lo - kMaxRateGapS * kUsPerS, range.to_us, p)),
      fmt::arg("lo", p.bind(secs(lo))), fmt::arg("gap", p.bind(std::to_string(kMaxRateGapS))));
}

// The first sample (raw) or rollup hour of the agent in the range, or nullopt when none.
std::optional<std::int64_t> first_data_us(pqxx::transaction_base& tx, const std::string& agent,
                                          const Range& range, std::int64_t raw_from,
                                          std::int64_t cutoff_us) {
  SqlParams p;
  std::string raw = "NULL::timestamptz", hourly = "NULL::timestamptz";
  if (raw_from < range.to_us) {
    raw = "(SELECT min(ts) FROM metrics" + window_sql("ts", agent, raw_from, range.to_us, p) + ")";
  }
  if (range.from_us < cutoff_us) {
    hourly = "(SELECT min(hour) FROM metrics_hourly" +
             window_sql("hour", agent, range.from_us, std::min(cutoff_us, range.to_us), p) + ")";
  }
  auto rows = p.exec(tx, "SELECT " + sql_us("least(" + raw + ", " + hourly + ")"));
  if (rows.empty() || rows[0][0].is_null()) return std::nullopt;
  return rows[0][0].as<std::int64_t>();
}

// Of `wanted` (disk, network, temperature), those no raw sample in [lo, hi) carried a value for,
// when there are samples at all. Through the per-item views: a sample with an empty or
// uncollected list has no row in them.
boost::json::array no_source(pqxx::transaction_base& tx, const std::string& agent, std::int64_t lo,
                             std::int64_t hi, const std::vector<std::string>& wanted) {
  static const std::map<std::string, std::string> kView{{"disk", "metrics_filesystems"},
                                                        {"network", "metrics_net"},
                                                        {"temperature", "metrics_temperatures"}};
  boost::json::array out;
  if (wanted.empty() || lo >= hi) return out;
  SqlParams p;
  std::string sql =
      "SELECT EXISTS (SELECT 1 FROM metrics" + window_sql("ts", agent, lo, hi, p) + ")";
  for (const auto& w : wanted) {
    sql += ", EXISTS (SELECT 1 FROM " + kView.at(w) + window_sql("ts", agent, lo, hi, p) + ")";
  }
  auto rows = p.exec(tx, sql);
  if (rows.empty() || !rows[0][0].as<bool>()) return out;
  for (std::size_t i = 0; i < wanted.size(); ++i) {
    if (!rows[0][static_cast<int>(i) + 1].as<bool>()) out.emplace_back(wanted[i]);
  }
  return out;
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
    // The per-item views expand json lists the planner guesses at 100 items a row, so a 30-day
    // series looks costly enough for JIT, whose compiling took most of its time (about 7 of
    // 10 s for one agent's 30 days of network samples on a loaded test machine, 3 s without).
    tx.exec0("SET LOCAL jit = off");
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
    range.origin_us = std::max(
        range.from_us, first_data_us(tx, *id, range, raw_from, cutoff_us).value_or(range.from_us));
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
        SqlParams p;
        collect(p.exec(tx, network_sql(*id, range, raw_from, p)),
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
    // Series wanted that got no value at all: is it that the agent has no such source?
    std::vector<std::string> unanswered;
    for (const auto& [name, column] :
         {std::pair{"disk", "disk_percent_max"}, std::pair{"network", "rx_bytes_per_s"},
          std::pair{"temperature", "temperature_max_c"}}) {
      bool any = false;
      for (const auto& [ts, point] : raw) any = any || point.contains(column);
      if (want(name) && !any) unanswered.emplace_back(name);
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
    return json_response(
        req,
        boost::json::object{{"agent_id", *id},
                            {"from", format_rfc3339_utc(range.from_us)},
                            {"to", format_rfc3339_utc(range.to_us)},
                            {"step_s", range.step_s},
                            {"no_source", no_source(tx, *id, raw_from, range.to_us, unanswered)},
                            {"points", std::move(out)}});
  });
}

}  // namespace rmm::api
