// GET /metrics of a running rmm-api: requests counted by route pattern and status class, latency
// histograms, enrolled and online agents from the read models, and nothing naming a tenant.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <sstream>

#include "tests/api/tenancy_matrix.h"

using namespace rmm;
using namespace rmm::test;

namespace {

// 2026-01-02T03:05:00Z
constexpr UnixNanos kNow = 1'767'323'100'000'000'000;

std::string scrape(const ApiEnv& env) {
  auto res = http_get(env.port(), "/metrics");
  REQUIRE(res.status == 200);
  CHECK(res.headers["content-type"].starts_with("text/plain; version=0.0.4"));
  return res.body;
}

}  // namespace

TEST_CASE("/metrics counts requests by route pattern, agents by status, and names no tenant") {
  FakeClock clock(kNow);
  ApiEnv env("api_metrics", clock, [](api::ApiConfig& c) { c.metrics_refresh = {}; });
  auto seed = seed_two_clients(env);
  env.add_user("owner", "owner", {{"global", kNilUuid}});
  auto token = env.login("owner");

  const std::string agent_route =
      R"(rmm_api_requests_total{method="GET",route="/api/v1/agents/{id}",status_class="2xx"})";
  const std::string unmatched =
      R"(rmm_api_requests_total{method="GET",route="unmatched",status_class="4xx"})";
  auto before = scrape(env);
  CHECK(metric_sample(before, agent_route) == -1);
  const double enrolled0 = metric_sample(before, "rmm_api_agents_enrolled");
  const double online0 = metric_sample(before, "rmm_api_agents_online");
  CHECK(enrolled0 >= 2);
  CHECK(metric_sample(before, "rmm_api_read_models_up") == 1);

  for (int i = 0; i < 3; ++i) {
    REQUIRE(env.get("/api/v1/agents/" + seed.a.ids.at("agent"), token).status == 200);
  }
  REQUIRE(env.get("/api/v1/agents/" + seed.b.ids.at("agent"), token).status == 200);
  REQUIRE(env.get("/api/v1/no-such-thing/" + seed.a.ids.at("client"), token).status == 404);
  // Two online (seen within offline-after), one long gone, one revoked: only three enrolled.
  env.exec(R"sql(
    INSERT INTO agents (id, hostname, os, version, first_seen, last_seen, last_seq, revoked_at)
    VALUES ('0190a5c2-0000-7000-9999-000000000001', 'm1', 'linux', '0.1.0',
            '2026-01-01T00:00:00Z', '2026-01-02T03:04:55Z', 1, NULL),
           ('0190a5c2-0000-7000-9999-000000000002', 'm2', 'linux', '0.1.0',
            '2026-01-01T00:00:00Z', '2026-01-02T03:04:00Z', 1, NULL),
           ('0190a5c2-0000-7000-9999-000000000003', 'm3', 'linux', '0.1.0',
            '2026-01-01T00:00:00Z', '2025-12-01T00:00:00Z', 1, NULL),
           ('0190a5c2-0000-7000-9999-000000000004', 'm4', 'linux', '0.1.0',
            '2026-01-01T00:00:00Z', '2026-01-02T03:04:55Z', 1, '2026-01-02T00:00:00Z');
  )sql");

  auto after = scrape(env);
  CHECK(metric_sample(after, agent_route) == 4);
  CHECK(metric_sample(after, unmatched) == 1);
  CHECK(metric_sample(
            after, R"(rmm_api_requests_total{method="GET",route="/metrics",status_class="2xx"})") ==
        1);
  CHECK(
      metric_sample(
          after,
          R"(rmm_api_request_duration_seconds_count{method="GET",route="/api/v1/agents/{id}"})") ==
      4);
  CHECK(
      metric_sample(
          after,
          R"(rmm_api_request_duration_seconds_bucket{method="GET",route="/api/v1/agents/{id}",le="+Inf"})") ==
      4);
  CHECK(metric_sample(after, "rmm_api_agents_enrolled") == enrolled0 + 3);
  CHECK(metric_sample(after, "rmm_api_agents_online") == online0 + 2);
  // Counts only: no id, name or hostname of any tenant, even from the paths requested.
  for (const auto* t : {&seed.a, &seed.b}) {
    for (const auto& m : t->markers) CHECK_MESSAGE(after.find(m) == std::string::npos, m);
  }
}
