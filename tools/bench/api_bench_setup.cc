#include "tools/bench/api_bench_setup.h"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <pqxx/pqxx>
#include <stdexcept>

#include "api/auth/passwords.h"
#include "common/pg.h"
#include "projector/db/migrations.h"
#include "tests/fixtures/http_client.h"

namespace rmm::bench {
namespace {

namespace fs = std::filesystem;

void seed(pqxx::connection& c, int agents) {
  // Every migration, as the projector applies them: a hand-picked list fell behind the schema
  // rmm-api reads (sign-in failed with 500 once auth.totp existed).
  auto migrated = projector::db::apply_migrations(c, RMM_MIGRATIONS_SOURCE_DIR);
  if (!migrated) throw std::runtime_error("migrations: " + migrated.error().message);
  pqxx::work tx(c);
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
  const std::string hash = *api::hash_password(kBenchPassword);
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

}  // namespace

ApiBenchStack::ApiBenchStack(int agents, std::function<void(api::ApiConfig&)> tweak) {
  auto url = pg_.create_database("api_bench");
  nats_ =
      std::make_unique<test::NatsServerFixture>(test::NatsServerOptions{.apply_streams = false});
  {
    auto conn = pg::connect(url);
    if (!conn) throw std::runtime_error(conn.error().message);
    auto t0 = std::chrono::steady_clock::now();
    seed(**conn, agents);
    std::fprintf(stderr, "seeded %d agents in %.1f s\n", agents,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  api::ApiConfig c;
  c.listen_port = 0;
  c.pg_url = url;
  c.nats_url = nats_->url();
  c.nats_creds = nats_->services_creds().string();
  c.web_dir = (fs::path(RMM_SOURCE_DIR) / "api/web/dist").string();
  if (tweak) tweak(c);
  auto app = api::App::create(c);
  if (!app) throw std::runtime_error(app.error().message);
  if (auto s = (*app)->start(); !s) throw std::runtime_error(s.error().message);
  app_ = std::move(*app);
}

ApiBenchStack::~ApiBenchStack() {
  if (app_) app_->stop();
}

std::string ApiBenchStack::login(const std::string& user) const {
  auto res = test::http_request(
      port(), "POST", "/api/v1/auth/login",
      boost::json::serialize(boost::json::object{{"username", user}, {"password", kBenchPassword}}),
      {{"content-type", "application/json"}});
  if (res.status != 200) throw std::runtime_error("login failed: " + res.body);
  return std::string(boost::json::parse(res.body).at("token").as_string());
}

}  // namespace rmm::bench
