// The read routes' answers: paging, sorting, filtering, agent detail, metrics downsampling,
// command output, effective policy, and 4xx problems for bad input.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <set>

#include "tests/api/tenancy_matrix.h"

using namespace rmm;
using namespace rmm::test;

namespace {

// 2026-01-02T03:05:00Z
constexpr UnixNanos kNow = 1'767'323'100'000'000'000;

// 250 agents in A's site: host-000..host-249, cpu = n % 100, every other one online.
void seed_many(const ApiEnv& env, const std::string& site) {
  env.exec(fmt::format(R"sql(
    INSERT INTO agents (id, hostname, os, version, first_seen, last_seen, last_seq, site_id)
    SELECT ('0190a5c2-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid,
           'host-' || lpad(n::text, 3, '0'), CASE WHEN n % 5 = 0 THEN 'windows' ELSE 'linux' END,
           '0.1.0', '2026-01-01T00:00:00Z',
           CASE WHEN n % 2 = 0 THEN '2026-01-02T03:04:50Z'::timestamptz
                ELSE '2026-01-01T00:00:00Z'::timestamptz END, 1, '{0}'
      FROM generate_series(0, 249) n;
    INSERT INTO agent_latest_metrics (agent_id, ts, seq, cpu_percent, mem_total_bytes,
        mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes, swap_used_bytes,
        load1, load5, load15, uptime_s, process_count, logged_in_users, collection_errors)
    SELECT ('0190a5c2-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid, now(), 1, n % 100,
           100, n % 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '[]'
      FROM generate_series(0, 249) n;
  )sql",
                       site));
}

std::vector<boost::json::object> all_pages(const ApiEnv& env, const std::string& token,
                                           const std::string& query) {
  std::vector<boost::json::object> out;
  std::string cursor;
  for (int page = 0; page < 20; ++page) {
    auto res =
        env.get("/api/v1/agents?" + query + (cursor.empty() ? "" : "&cursor=" + cursor), token);
    REQUIRE_MESSAGE(res.status == 200, res.body);
    auto body = parse_object(res.body);
    for (const auto& item : body.at("items").as_array()) out.push_back(item.as_object());
    if (body.at("next_cursor").is_null()) return out;
    cursor = std::string(body.at("next_cursor").as_string());
  }
  FAIL("more than 20 pages");
  return out;
}

}  // namespace

TEST_CASE("agents list: keyset pages, sorts, filters") {
  FakeClock clock(kNow);
  ApiEnv env("api_reads_list", clock);
  auto seed = seed_two_clients(env);
  seed_many(env, seed.a.ids.at("site"));
  env.add_user("root", "owner", {});
  std::string token = env.login("root");

  auto by_host = all_pages(env, token, "limit=100&client_id=" + seed.a.ids.at("client"));
  REQUIRE(by_host.size() == 251);  // 250 + Alpha-host
  std::set<std::string> ids;
  for (std::size_t i = 0; i < by_host.size(); ++i) {
    ids.insert(std::string(by_host[i].at("id").as_string()));
    if (i > 0) {
      CHECK(by_host[i - 1].at("hostname").as_string() <= by_host[i].at("hostname").as_string());
    }
  }
  CHECK(ids.size() == 251);
  CHECK(by_host[0].at("client_name").as_string() == "Alpha Corp");
  CHECK(by_host[0].at("site_name").as_string() == "Alpha-site");

  auto by_cpu = all_pages(env, token, "limit=37&sort=-cpu");
  REQUIRE(by_cpu.size() == 252);
  for (std::size_t i = 1; i < by_cpu.size(); ++i) {
    auto cpu = [](const boost::json::object& o) {
      return o.at("cpu_percent").is_null() ? -1.0 : o.at("cpu_percent").to_number<double>();
    };
    CHECK(cpu(by_cpu[i - 1]) >= cpu(by_cpu[i]));
  }
  CHECK(by_cpu[0].at("cpu_percent").to_number<double>() == 99.0);

  auto online = all_pages(env, token, "status=online&os=windows");
  CHECK(online.size() == 25);  // n % 10 == 0
  for (const auto& a : online) CHECK(a.at("status").as_string() == "online");
  auto text = all_pages(env, token, "q=HOST-12");
  CHECK(text.size() == 10);  // host-120..129
  auto memory = all_pages(env, token, "sort=memory&limit=500");
  CHECK(memory.size() == 252);

  check_problem(env.get("/api/v1/agents?limit=0", token), 400);
  check_problem(env.get("/api/v1/agents?limit=501", token), 400);
  check_problem(env.get("/api/v1/agents?sort=password", token), 400);
  check_problem(env.get("/api/v1/agents?status=sleepy", token), 400);
  check_problem(env.get("/api/v1/agents?client_id=x'%20OR%201=1", token), 400);
  check_problem(env.get("/api/v1/agents?cursor=not-a-cursor", token), 400);
  // A forged cursor of the right shape but wrong type is a 400, not a 500 with SQL text.
  check_problem(env.get("/api/v1/agents?sort=cpu&cursor=WyJ4IiwiMDE5MGE1YzItMDAwMC03MDAwLTgwMDAt"
                        "MDAwMDAwMDBhMDAzIl0",
                        token),
                400);
}

TEST_CASE("agents list: every item holds what the agent's own page says, escaped alike") {
  // The list is written as JSON text row by row and counts alerts for the whole page at once;
  // the detail builds a document and counts per agent: they must agree on every field.
  FakeClock clock(kNow);
  ApiEnv env("api_reads_list_items", clock);
  auto seed = seed_two_clients(env);
  seed_many(env, seed.a.ids.at("site"));
  // A hostname that needs every kind of JSON escape (and a non-ASCII letter, copied as is).
  env.exec(fmt::format(
      "INSERT INTO agents (id, hostname, os, version, last_seen, last_seq, site_id) VALUES "
      "('0190a5c2-0000-7000-9000-000000000999', E'odd \\\\ \"host\"\\n\\t\\x01 \u00e9', "
      "'linux', '0.1.0', '2026-01-02T03:04:59.123456Z', 1, '{}');"
      "INSERT INTO alerts (id, agent_id, rule, severity, status, message, raised_at, "
      "raised_stream_seq) VALUES ('0190a5c2-0000-7000-a000-000000000998', "
      "'0190a5c2-0000-7000-9000-000000000999', 'cpu', 'warning', 'active', 'm', now(), 998), "
      "('0190a5c2-0000-7000-a000-000000000999', '0190a5c2-0000-7000-9000-000000000999', 'disk', "
      "'warning', 'active', 'm', now(), 999)",
      seed.a.ids.at("site")));
  env.add_user("root", "owner", {});
  std::string token = env.login("root");

  auto items = all_pages(env, token, "limit=500");
  REQUIRE(items.size() == 253);
  int odd = 0;
  for (const auto& item : items) {
    auto res = env.get("/api/v1/agents/" + std::string(item.at("id").as_string()), token);
    REQUIRE_MESSAGE(res.status == 200, res.body);
    auto detail = parse_object(res.body);
    CHECK(item.size() == 14);
    for (const auto& [key, value] : item) {
      CAPTURE(key);
      CHECK(detail.at(key) == value);
    }
    if (item.at("id").as_string() == "0190a5c2-0000-7000-9000-000000000999") {
      ++odd;
      CHECK(item.at("hostname").as_string() == "odd \\ \"host\"\n\t\x01 \u00e9");
      CHECK(item.at("active_alerts").as_int64() == 2);
      CHECK(item.at("last_seen").as_string() == "2026-01-02T03:04:59.123Z");
    }
  }
  CHECK(odd == 1);
}

TEST_CASE("agent detail, commands, command output, effective policy") {
  FakeClock clock(kNow);
  ApiEnv env("api_reads_detail", clock);
  auto seed = seed_two_clients(env);
  env.add_user("root", "owner", {});
  std::string token = env.login("root");

  auto res = env.get(fill("/api/v1/agents/{agent}", seed.a), token);
  REQUIRE(res.status == 200);
  auto a = parse_object(res.body);
  CHECK(a.at("hostname").as_string() == "Alpha-host");
  CHECK(a.at("status").as_string() == "online");  // seen 30 s before kNow
  CHECK(a.at("cpu_percent").to_number<double>() == 12.5);
  CHECK(a.at("memory_percent").to_number<double>() == 25.0);
  CHECK(a.at("disk_percent_max").to_number<double>() == 40.0);
  CHECK(a.at("active_alerts").as_int64() == 1);
  CHECK(a.at("latest_metrics").at("process_count").as_int64() == 50);
  REQUIRE(a.at("alerts").as_array().size() == 1);
  CHECK(a.at("alerts").as_array()[0].at("id").as_string() == seed.a.ids.at("alert"));
  REQUIRE(a.at("recent_commands").as_array().size() == 1);
  CHECK(a.at("recent_commands").as_array()[0].at("summary").as_string() == "uptime");
  CHECK_FALSE(a.at("recent_commands").as_array()[0].as_object().contains("stdout"));

  auto cmd = parse_object(env.get(fill("/api/v1/commands/{command}", seed.a), token).body);
  CHECK(cmd.at("stdout").as_string() == "Alpha output");
  CHECK(cmd.at("status").as_string() == "completed");
  CHECK(cmd.at("issued_at").as_string() == "2026-01-02T03:00:00.000Z");

  auto pol =
      parse_object(env.get(fill("/api/v1/agents/{agent}/effective-policy", seed.a), token).body);
  auto hb = pol.at("settings").at("heartbeat-interval").as_object();
  CHECK(hb.at("value").as_string() == "10s");
  CHECK(hb.at("source_scope").as_string() == "agent");

  auto alerts = parse_object(env.get("/api/v1/alerts?severity=critical&limit=1", token).body);
  CHECK(alerts.at("items").as_array().size() == 1);
  CHECK_FALSE(alerts.at("next_cursor").is_null());

  check_problem(env.get("/api/v1/agents/not-a-uuid", token), 404);
  check_problem(env.get("/api/v1/agents/0190a5c2-0000-7000-8000-0000000ff001", token), 404);
  check_problem(env.get("/api/v1/commands/0190a5c2-0000-7000-8000-0000000ff001", token), 404);
  check_problem(env.get("/api/v1/alerts?status=maybe", token), 400);
  check_problem(env.get("/api/v1/policies?scope=planet", token), 400);
}

TEST_CASE("metrics history is downsampled server-side, hourly rollups beyond retention") {
  FakeClock clock(kNow);
  ApiEnv env("api_reads_metrics", clock);
  auto seed = seed_two_clients(env);
  env.add_user("root", "owner", {});
  std::string token = env.login("root");
  const std::string agent = seed.a.ids.at("agent");
  // 120 one-minute samples from 01:00 to 02:59 (cpu = minute of the hour).
  env.exec(fmt::format(R"sql(
    DELETE FROM metrics;
    INSERT INTO metrics (agent_id, ts, seq, stream_seq, cpu_percent, cpu_interval_ms,
        mem_total_bytes, mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes,
        swap_used_bytes, load1, load5, load15, uptime_s, process_count, logged_in_users)
    SELECT '{0}', '2026-01-02T01:00:00Z'::timestamptz + n * interval '1 minute', n + 1, n + 1,
           n % 60, 1000, 1000, 500, 500, 0, 0, 0, 0, 0, 0, 1, 1, 1
      FROM generate_series(0, 119) n;
    SELECT rmm_ensure_rollup_month('2025-10-01');
    INSERT INTO metrics_hourly VALUES ('{0}', '2025-10-01T00:00:00Z', 60, 600, 20, 3000, 60, 0, 0);
  )sql",
                       agent));
  auto res = env.get("/api/v1/agents/" + agent +
                         "/metrics?from=2026-01-02T01:00:00Z&to=2026-01-02T03:00:00Z&points=12"
                         "&series=cpu,memory",
                     token);
  REQUIRE_MESSAGE(res.status == 200, res.body);
  auto body = parse_object(res.body);
  CHECK(body.at("step_s").as_int64() == 600);
  auto points = body.at("points").as_array();
  REQUIRE(points.size() == 12);
  CHECK(points[0].at("ts").as_string() == "2026-01-02T01:00:00.000Z");
  CHECK(points[0].at("cpu_percent").to_number<double>() == doctest::Approx(4.5));  // 0..9
  CHECK(points[1].at("cpu_percent").to_number<double>() == doctest::Approx(14.5));
  CHECK(points[0].at("memory_percent").to_number<double>() == doctest::Approx(50.0));
  CHECK(points[0].at("disk_percent_max").is_null());

  // 2025-10-01 is beyond the 30-day raw retention at kNow: the hourly rollup answers.
  auto old = parse_object(env.get("/api/v1/agents/" + agent +
                                      "/metrics?from=2025-10-01T00:00:00Z&to=2025-10-02T00:00:00Z"
                                      "&points=24",
                                  token)
                              .body);
  CHECK(old.at("step_s").as_int64() == 3600);
  REQUIRE(old.at("points").as_array().size() == 1);
  CHECK(old.at("points").as_array()[0].at("cpu_percent").to_number<double>() == 10.0);
  CHECK(old.at("points").as_array()[0].at("memory_percent").to_number<double>() == 50.0);

  const std::string base = "/api/v1/agents/" + agent + "/metrics";
  check_problem(env.get(base + "?points=0", token), 400);
  check_problem(env.get(base + "?points=2001", token), 400);
  check_problem(env.get(base + "?from=yesterday", token), 400);
  check_problem(env.get(base + "?from=2026-01-02T03:00:00Z&to=2026-01-02T01:00:00Z", token), 400);
  check_problem(env.get(base + "?series=cpu,passwords", token), 400);
}

TEST_CASE("a SQL failure is a generic 500 without driver text, and the pool recovers") {
  ApiEnv env("api_reads_sqlfail");
  env.add_user("root", "owner", {});
  std::string token = env.login("root");
  REQUIRE(env.get("/api/v1/agents", token).status == 200);  // warms a pooled connection
  env.exec("DROP TABLE agents CASCADE");
  auto broken = env.get("/api/v1/agents", token);
  check_problem(broken, 500);
  for (const char* leak :
       {"agents\"", "relation \"", "does not exist", "SELECT", "ERROR", "42P01", "pqxx"}) {
    CAPTURE(leak);
    CHECK(broken.body.find(leak) == std::string::npos);
  }
  check_problem(env.get("/api/v1/agents", token), 500);
  CHECK(env.get("/api/v1/auth/me", token).status == 200);
}

TEST_CASE("overview: every client, agents of no site, the worst agents, offline, failures") {
  FakeClock clock(kNow);
  ApiEnv env("api_reads_overview", clock);
  auto seed = seed_two_clients(env);
  env.exec(R"sql(
    INSERT INTO clients (id, partner_id, name, created_by, created_at)
      VALUES ('0190a5c2-0000-7000-8000-0000000c0001', '00000000-0000-7000-8000-000000000001',
              'Gamma Corp', 'test', now());
    INSERT INTO agents (id, hostname, os, version, first_seen, last_seen, last_seq)
      VALUES ('0190a5c2-0000-7000-8000-0000000c0003', 'lonely-host', 'linux', '0.1.0',
              '2026-01-01T00:00:00Z', '2026-01-02T03:04:50Z', 1),
             ('0190a5c2-0000-7000-8000-0000000c0004', 'gone-host', 'linux', '0.1.0',
              '2026-01-01T00:00:00Z', '2026-01-01T12:00:00Z', 1);
    INSERT INTO agent_latest_metrics (agent_id, ts, seq, cpu_percent, mem_total_bytes,
        mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes, swap_used_bytes,
        load1, load5, load15, uptime_s, process_count, logged_in_users, collection_errors)
      VALUES ('0190a5c2-0000-7000-8000-0000000c0003', now(), 1, 97, 100, 90, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, '[]');
    INSERT INTO commands (id, agent_id, status, kind, issuer, last_seq, updated_at, issued_at,
        summary, exit_code)
      VALUES ('0190a5c2-0000-7000-8000-0000000c0005', '0190a5c2-0000-7000-8000-0000000a0003',
              'completed', 'shell', 'user:test', 4, now(), now(), 'false', 1),
             ('0190a5c2-0000-7000-8000-0000000c0006', '0190a5c2-0000-7000-8000-0000000a0003',
              'timed_out', 'shell', 'user:test', 5, now(), now(), 'sleep 99', NULL),
             ('0190a5c2-0000-7000-8000-0000000c0007', '0190a5c2-0000-7000-8000-0000000a0003',
              'failed', 'shell', 'user:test', 6, '2025-12-29T00:00:00Z', now(), 'old', NULL);
  )sql");
  env.add_user("root", "owner", {{"global", kNilUuid}});
  env.add_user("alpha-tech", "technician", {{"client", seed.a.ids.at("client")}});

  auto ov = parse_object(env.get("/api/v1/overview", env.login("root")).body);
  CHECK(ov.at("agents").at("total").as_int64() == 4);
  CHECK(ov.at("agents").at("online").as_int64() == 3);
  CHECK(ov.at("agents").at("offline").as_int64() == 1);
  CHECK(ov.at("unassigned").at("agents").as_int64() == 2);
  CHECK(ov.at("unassigned").at("online").as_int64() == 1);
  const auto& clients = ov.at("clients").as_array();
  REQUIRE(clients.size() == 3);  // Gamma has no agents and is listed all the same
  CHECK(clients[2].at("name").as_string() == "Gamma Corp");
  CHECK(clients[2].at("agents").as_int64() == 0);
  CHECK(clients[0].at("active_alerts").as_int64() == 1);
  CHECK(ov.at("alerts").at("critical").as_int64() == 2);

  const auto& cpu = ov.at("worst").at("cpu").as_array();
  REQUIRE(cpu.size() == 3);
  CHECK(cpu[0].at("hostname").as_string() == "lonely-host");
  CHECK(cpu[0].at("percent").to_number<double>() == 97.0);
  CHECK(ov.at("worst").at("memory").as_array()[0].at("percent").to_number<double>() == 90.0);
  const auto& disk = ov.at("worst").at("disk").as_array();
  REQUIRE(disk.size() == 2);  // lonely-host reports no filesystems
  CHECK(disk[0].at("percent").to_number<double>() == 40.0);
  CHECK(disk[0].at("client_name").as_string() == "Alpha Corp");

  const auto& off = ov.at("offline_agents").as_array();
  REQUIRE(off.size() == 1);
  CHECK(off[0].at("hostname").as_string() == "gone-host");
  CHECK(off[0].at("last_seen").as_string() == "2026-01-01T12:00:00.000Z");

  // The seed's two refused updates count as failed, as do both recent failed commands; the
  // four-day-old one (by the API's clock) is outside the 24 hours.
  CHECK(ov.at("updates").at("failed_24h").as_int64() == 2);
  CHECK(ov.at("updates").at("in_progress").as_int64() == 0);
  std::multiset<std::string> failures;
  for (const auto& f : ov.at("failures").as_array()) {
    failures.insert(std::string(f.at("kind").as_string()) + " " +
                    std::string(f.at("status").as_string()));
  }
  CHECK(failures == std::multiset<std::string>{"command exit 1", "command timed_out",
                                               "update refused", "update refused"});

  // Scoped to Alpha: its client only, and nothing of the agents of no client.
  auto mine = parse_object(env.get("/api/v1/overview", env.login("alpha-tech")).body);
  REQUIRE(mine.at("clients").as_array().size() == 1);
  CHECK(mine.at("agents").at("total").as_int64() == 1);
  CHECK(mine.at("unassigned").at("agents").as_int64() == 0);
  CHECK(mine.at("worst").at("cpu").as_array().size() == 1);
  CHECK(mine.at("failures").as_array().size() == 3);
  CHECK(mine.at("offline_agents").as_array().empty());

  // The overview's "worst disk" links to the agents list sorted by disk.
  auto by_disk = parse_object(env.get("/api/v1/agents?sort=-disk", env.login("root")).body);
  const auto& items = by_disk.at("items").as_array();
  REQUIRE(items.size() == 4);
  CHECK(items[0].at("disk_percent_max").to_number<double>() == 40.0);
  CHECK(items[3].at("disk_percent_max").is_null());
}
