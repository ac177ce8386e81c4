// GET /api/v1/agents/{id}/metrics for each range the dashboard offers (15 min to 30 days), read
// through rmm-api from PostgreSQL: buckets inside [from, to) and never before the agent's first
// sample, steps of step_s, cpu and network rates in every bucket that holds samples (one sample
// per bucket at small steps), counter resets, and series the agent has no source for.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/routes/agents.h"
#include "api/routes/json_reply.h"
#include "tests/api/tenancy_matrix.h"

using namespace rmm;
using namespace rmm::test;

namespace {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE_MESSAGE(in.good(), p.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// 2026-01-02T03:05:00Z
constexpr UnixNanos kNow = 1'767'323'100'000'000'000;
constexpr std::int64_t kNowUs = kNow / 1000;
constexpr std::int64_t kUs = 1'000'000;

struct Range {
  const char* name;
  std::int64_t seconds;
};
constexpr Range kRanges[] = {{"15m", 15 * 60},   {"1h", 3600},          {"6h", 6 * 3600},
                             {"24h", 24 * 3600}, {"7d", 7 * 24 * 3600}, {"30d", 30 * 24 * 3600}};

std::int64_t us_of(const boost::json::value& v) {
  auto t = api::parse_rfc3339_us(v.as_string());
  REQUIRE(t.has_value());
  return *t;
}

boost::json::object series(const ApiEnv& env, const std::string& token, const std::string& agent,
                           std::int64_t seconds) {
  auto res = env.get(
      fmt::format("/api/v1/agents/{}/metrics?from={}&to={}&points=300", agent,
                  api::format_rfc3339_utc(kNowUs - seconds * kUs), api::format_rfc3339_utc(kNowUs)),
      token);
  REQUIRE_MESSAGE(res.status == 200, res.body);
  return parse_object(res.body);
}

// Every bucket within [from, to) and not before `first_us`, on the step grid, at most 300.
void check_buckets(const boost::json::object& body, std::int64_t seconds, std::int64_t first_us) {
  const std::int64_t step = (seconds + 299) / 300;
  CHECK(body.at("step_s").as_int64() == step);
  CHECK(us_of(body.at("from")) == kNowUs - seconds * kUs);
  CHECK(us_of(body.at("to")) == kNowUs);
  const auto& points = body.at("points").as_array();
  REQUIRE(!points.empty());
  CHECK(points.size() <= 300);
  const std::int64_t first = us_of(points.front().at("ts"));
  CHECK(first == std::max(kNowUs - seconds * kUs, first_us));
  std::int64_t prev = 0;
  for (const auto& p : points) {
    const std::int64_t ts = us_of(p.at("ts"));
    CHECK(ts >= first);
    CHECK(ts < kNowUs);
    CHECK((ts - first) % (step * kUs) == 0);
    CHECK(ts > prev);
    prev = ts;
  }
}

}  // namespace

TEST_CASE("metrics series for every dashboard range: bounds, steps, rates, missing sources") {
  FakeClock clock(kNow);
  ApiEnv env("api_metrics_series", clock);
  // The metrics schema rmm-projector runs with: one row per sample, per-item lists as json with
  // views over them (ApiEnv's schema keeps the older per-item tables).
  for (const char* m : {"0006_metrics_one_row.sql", "0008_metrics_compact_lists.sql"}) {
    env.exec(read_text(std::filesystem::path(RMM_SOURCE_DIR) / "projector/migrations" / m));
  }
  auto seed = seed_two_clients(env);
  env.add_user("root", "owner", {});
  const std::string token = env.login("root");
  const std::string old_agent = seed.a.ids.at("agent");
  const std::string new_agent = seed.b.ids.at("agent");

  // The old agent: one sample a minute for 31 days up to 03:04, no temperature sensors, eth0
  // receiving 1000 B/s and sending 250 B/s, lo 100 B/s both ways. eth0's counters restart 20
  // minutes before now (a reboot): the reset sample's value is what it counted since.
  // The new agent: samples from 02:55 only, with a sensor and the same interfaces.
  const int kReset = 31 * 24 * 60 + 3 * 60 + 4 - 20;
  env.exec(fmt::format(R"sql(
    DELETE FROM metrics;
    SELECT rmm_ensure_metrics_day(d::date)
      FROM generate_series('2025-12-01'::date, '2026-01-02'::date, interval '1 day') d;
    INSERT INTO metrics (agent_id, ts, seq, stream_seq, cpu_percent, cpu_interval_ms,
        mem_total_bytes, mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes,
        swap_used_bytes, load1, load5, load15, uptime_s, process_count, logged_in_users,
        filesystems, net, temperatures)
    SELECT '{0}', '2025-12-02T00:00:00Z'::timestamptz + n * interval '1 minute', n + 1, n + 1,
           n % 100, 1000, 1000, 500, 500, 0, 0, 0, 0, 0, 0, 1, 1, 1,
           '[["/","ext4","sda1",50,100,0,0]]',
           json_build_array(
             json_build_array('eth0', c * 60000, 0, 0, 0, c * 15000, 0, 0, 0),
             json_build_array('lo', n::bigint * 6000, 0, 0, 0, n::bigint * 6000, 0, 0, 0)),
           NULL
      FROM generate_series(0, {2}) n,
           LATERAL (SELECT (CASE WHEN n < {3} THEN n ELSE n - {3} + 1 END)::bigint AS c) k;
    INSERT INTO metrics (agent_id, ts, seq, stream_seq, cpu_percent, cpu_interval_ms,
        mem_total_bytes, mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes,
        swap_used_bytes, load1, load5, load15, uptime_s, process_count, logged_in_users,
        filesystems, net, temperatures)
    SELECT '{1}', '2026-01-02T02:55:00Z'::timestamptz + n * interval '1 minute', n + 1, n + 1,
           20, 1000, 1000, 500, 500, 0, 0, 0, 0, 0, 0, 1, 1, 1,
           '[["/","ext4","sda1",10,100,0,0]]',
           json_build_array(json_build_array('eth0', n * 60000, 0, 0, 0, n * 15000, 0, 0, 0)),
           json_build_array(json_build_array('coretemp', 'Core 0', 40 + n))
      FROM generate_series(0, 9) n;
  )sql",
                       old_agent, new_agent, kReset + 20, kReset));
  const std::int64_t new_first_us = kNowUs - 10 * 60 * kUs;

  for (const auto& r : kRanges) {
    const std::string range_name = r.name;
    CAPTURE(range_name);
    auto old_body = series(env, token, old_agent, r.seconds);
    check_buckets(old_body, r.seconds, 0);
    const auto& points = old_body.at("points").as_array();
    // One sample a minute: each bucket of a step under a minute holds one sample.
    CHECK(points.size() == std::min<std::size_t>(r.seconds / 60, 300));
    for (const auto& pv : points) {
      const auto& p = pv.as_object();
      CAPTURE(p.at("ts").as_string());
      REQUIRE(!p.at("cpu_percent").is_null());
      REQUIRE(!p.at("rx_bytes_per_s").is_null());
      REQUIRE(!p.at("tx_bytes_per_s").is_null());
      CHECK(p.at("rx_bytes_per_s").to_number<double>() == doctest::Approx(1100));
      CHECK(p.at("tx_bytes_per_s").to_number<double>() == doctest::Approx(350));
      CHECK(p.at("disk_percent_max").to_number<double>() == doctest::Approx(50));
      CHECK(p.at("temperature_max_c").is_null());
    }
    CHECK(old_body.at("no_source").as_array() == boost::json::array{"temperature"});

    auto new_body = series(env, token, new_agent, r.seconds);
    check_buckets(new_body, r.seconds, new_first_us);
    const auto& fresh = new_body.at("points").as_array();
    CHECK(fresh.size() <= 10);
    for (std::size_t i = 0; i < fresh.size(); ++i) {
      const auto& p = fresh[i].as_object();
      CHECK(!p.at("cpu_percent").is_null());
      CHECK(!p.at("temperature_max_c").is_null());
      // The very first sample has no earlier one to take a rate from.
      if (us_of(p.at("ts")) > new_first_us) {
        CHECK(p.at("rx_bytes_per_s").to_number<double>() == doctest::Approx(1000));
      }
    }
    CHECK(new_body.at("no_source").as_array().empty());
  }

  // A range with no samples at all: no buckets, and nothing claimed about sources.
  auto empty =
      parse_object(env.get("/api/v1/agents/" + new_agent +
                               "/metrics?from=2026-01-02T01:00:00Z&to=2026-01-02T02:00:00Z",
                           token)
                       .body);
  CHECK(empty.at("points").as_array().empty());
  CHECK(empty.at("no_source").as_array().empty());
}
