// rmm-bench-api: the agents list at scale. A throwaway PostgreSQL 15 and nats-server (test
// fixtures), 10,000 agents over 20 clients x 5 sites with latest metrics and alerts, rmm-api
// in-process; then pages of 100 through HTTP for an owner and for a user scoped to one client,
// sorted by hostname / -cpu / -last_seen, first pages and deep pages (cursors). Prints p50/p99 per
// scenario as Markdown rows for docs/benchmarks.md.
//
//   build/bin/rmm-bench-api [--agents 10000] [--requests 300]
#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>
#include <string>
#include <vector>

#include "api/app.h"
#include "api/auth/passwords.h"
#include "common/pg.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/postgres.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using rmm::test::http_request;

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void seed(pqxx::connection& c, int agents) {
  pqxx::work tx(c);
  const fs::path dir = fs::path(RMM_SOURCE_DIR) / "projector/migrations";
  for (const char* m : {"0001_initial.sql", "0002_tenancy_enrollment.sql", "0003_telemetry.sql",
                        "0004_control_plane.sql"}) {
    tx.exec(read_file(dir / m));
  }
  tx.exec(R"sql(
    INSERT INTO clients (id, partner_id, name, created_by, created_at)
    SELECT ('0190a5c2-0000-7000-8000-' || lpad(c::text, 12, '0'))::uuid,
           '00000000-0000-7000-8000-000000000001', 'client ' || c, 'bench', now()
      FROM generate_series(1, 20) c;
    INSERT INTO sites (id, client_id, name, created_by, created_at)
    SELECT ('0190a5c2-0000-7000-8001-' || lpad((c * 10 + s)::text, 12, '0'))::uuid,
           ('0190a5c2-0000-7000-8000-' || lpad(c::text, 12, '0'))::uuid, 'site ' || s, 'bench',
           now()
      FROM generate_series(1, 20) c, generate_series(1, 5) s;
  )sql");
  tx.exec_params(R"sql(
    INSERT INTO agents (id, hostname, os, version, first_seen, last_seen, last_seq, site_id)
    SELECT ('0190a5c2-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid,
           'host-' || md5(n::text), CASE WHEN n % 4 = 0 THEN 'windows' ELSE 'linux' END, '0.1.0',
           now() - interval '30 days', now() - (n % 600) * interval '1 second', 1,
           ('0190a5c2-0000-7000-8001-' ||
            lpad(((n % 20 + 1) * 10 + (n / 20) % 5 + 1)::text, 12, '0'))::uuid
      FROM generate_series(1, $1) n
  )sql",
                 agents);
  tx.exec_params(R"sql(
    INSERT INTO agent_latest_metrics (agent_id, ts, seq, cpu_percent, mem_total_bytes,
        mem_used_bytes, mem_available_bytes, mem_cached_bytes, swap_total_bytes, swap_used_bytes,
        load1, load5, load15, uptime_s, process_count, logged_in_users, filesystems,
        collection_errors)
    SELECT ('0190a5c2-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid, now(), 1,
           (n * 7919 % 1000) / 10.0, 16000000000, (n * 104729 % 16000000000), 0, 0, 0, 0, 0, 0, 0,
           0, 200, 1,
           '[{"mount": "/", "used_bytes": 40, "total_bytes": 100},
             {"mount": "/data", "used_bytes": 70, "total_bytes": 100}]', '[]'
      FROM generate_series(1, $1) n
  )sql",
                 agents);
  tx.exec_params(R"sql(
    INSERT INTO alerts (id, agent_id, rule, severity, status, message, raised_at,
        raised_stream_seq)
    SELECT ('0190a5c2-0000-7000-a000-' || lpad(n::text, 12, '0'))::uuid,
           ('0190a5c2-0000-7000-9000-' || lpad(n::text, 12, '0'))::uuid, 'cpu', 'warning',
           'active', 'cpu high', now(), n
      FROM generate_series(1, $1, 20) n
  )sql",
                 agents);
  const std::string hash = *rmm::api::hash_password("bench password 1");
  tx.exec(R"sql(
    INSERT INTO users (id, username, role, created_by, created_at, updated_at) VALUES
      ('0190a5c2-0000-7000-b000-000000000001', 'owner', 'owner', 'bench', now(), now()),
      ('0190a5c2-0000-7000-b000-000000000002', 'tech', 'technician', 'bench', now(), now())
  )sql");
  tx.exec(R"sql(
    INSERT INTO user_scopes VALUES ('0190a5c2-0000-7000-b000-000000000002', 'client',
                                    '0190a5c2-0000-7000-8000-000000000007')
  )sql");
  tx.exec_params(R"sql(
    INSERT INTO auth.credentials (user_id, username, password_hash) VALUES
      ('0190a5c2-0000-7000-b000-000000000001', 'owner', $1),
      ('0190a5c2-0000-7000-b000-000000000002', 'tech', $1)
  )sql",
                 hash);
  tx.exec("ANALYZE");
  tx.commit();
}

std::string login(int port, const std::string& user) {
  auto res = http_request(port, "POST", "/api/v1/auth/login",
                          R"({"username":")" + user + R"(","password":"bench password 1"})",
                          {{"content-type", "application/json"}});
  if (res.status != 200) throw std::runtime_error("login failed: " + res.body);
  return std::string(boost::json::parse(res.body).at("token").as_string());
}

struct Stats {
  double p50_ms, p99_ms, max_ms;
  std::size_t items;
};

// `requests` GETs of `target` (with `deep`, each one follows the previous page's cursor, wrapping
// to the first page at the end).
Stats measure(int port, const std::string& token, const std::string& target, int requests,
              bool deep) {
  std::vector<double> ms;
  std::string cursor;
  std::size_t items = 0;
  const std::map<std::string, std::string> headers{{"authorization", "Bearer " + token}};
  for (int i = 0; i < requests; ++i) {
    std::string t = target + (cursor.empty() ? "" : "&cursor=" + cursor);
    auto start = std::chrono::steady_clock::now();
    auto res = http_request(port, "GET", t, {}, headers);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
    if (res.status != 200) throw std::runtime_error("GET " + t + ": " + res.body);
    auto body = boost::json::parse(res.body).as_object();
    items = body.at("items").as_array().size();
    cursor = deep && !body.at("next_cursor").is_null()
                 ? std::string(body.at("next_cursor").as_string())
                 : std::string();
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) { return ms[std::min(ms.size() - 1, std::size_t(q * ms.size()))]; };
  return Stats{at(0.5), at(0.99), ms.back(), items};
}

}  // namespace

int main(int argc, char** argv) {
  int agents = 10'000;
  int requests = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--agents") == 0) agents = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atoi(argv[i + 1]);
  }
  try {
    rmm::test::PostgresFixture pg;
    auto url = pg.create_database("api_bench");
    rmm::test::NatsServerFixture nats(rmm::test::NatsServerOptions{.apply_streams = false});
    {
      auto conn = rmm::pg::connect(url);
      if (!conn) throw std::runtime_error(conn.error().message);
      auto t0 = std::chrono::steady_clock::now();
      seed(**conn, agents);
      std::fprintf(stderr, "seeded %d agents in %.1f s\n", agents,
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    rmm::api::ApiConfig c;
    c.listen_port = 0;
    c.pg_url = url;
    c.pg_pool_size = 4;
    c.nats_url = nats.url();
    c.nats_creds = nats.services_creds().string();
    c.web_dir = (fs::path(RMM_SOURCE_DIR) / "api/web/dist").string();
    auto app = rmm::api::App::create(c);
    if (!app) throw std::runtime_error(app.error().message);
    if (auto s = (*app)->start(); !s) throw std::runtime_error(s.error().message);
    const int port = (*app)->port();
    const std::string owner = login(port, "owner");
    const std::string tech = login(port, "tech");

    struct Scenario {
      const char* name;
      const std::string* token;
      std::string target;
      bool deep;
    };
    const std::vector<Scenario> scenarios = {
        {"owner, sort=hostname, first page", &owner, "/api/v1/agents?limit=100", false},
        {"owner, sort=hostname, paging through", &owner, "/api/v1/agents?limit=100", true},
        {"owner, sort=-cpu, first page", &owner, "/api/v1/agents?limit=100&sort=-cpu", false},
        {"owner, sort=-cpu, paging through", &owner, "/api/v1/agents?limit=100&sort=-cpu", true},
        {"owner, sort=-last_seen, status=online", &owner,
         "/api/v1/agents?limit=100&sort=-last_seen&status=online", false},
        {"owner, q=host-ab (text search)", &owner, "/api/v1/agents?limit=100&q=host-ab", false},
        {"client-scoped user (500 agents), first page", &tech, "/api/v1/agents?limit=100", false},
    };
    for (const auto& s : scenarios) measure(port, *s.token, s.target, 20, s.deep);  // warm up
    std::printf("| scenario (%d agents, page of 100, %d requests) | p50 ms | p99 ms | max ms |\n",
                agents, requests);
    std::printf("|---|---|---|---|\n");
    for (const auto& s : scenarios) {
      auto st = measure(port, *s.token, s.target, requests, s.deep);
      std::printf("| %s | %.2f | %.2f | %.2f |\n", s.name, st.p50_ms, st.p99_ms, st.max_ms);
      std::fflush(stdout);
    }
    (*app)->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rmm-bench-api: %s\n", e.what());
    return 1;
  }
  return 0;
}
