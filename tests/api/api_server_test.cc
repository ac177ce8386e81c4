// rmm-api against a real PostgreSQL and nats-server: the server runs in-process (App) for the
// route tests, and as the real binary for --help and graceful shutdown.
#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <pqxx/nontransaction>
#include <sstream>
#include <thread>

#include "api/app.h"
#include "common/pg.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const fs::path kMigration = fs::path(RMM_SOURCE_DIR) / "projector/migrations/0001_initial.sql";
const std::string kBin = RMM_BIN_DIR;
const std::string kHostile = "<img src=x onerror=alert(1)>";

NatsServerFixture& shared_nats() {
  static NatsServerFixture nats(NatsServerOptions{.apply_streams = false});
  return nats;
}

void exec(const std::string& url, const std::string& sql) {
  auto conn = pg::connect(url);
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  pqxx::nontransaction tx(**conn);
  tx.exec(sql);
}

// A fresh database with the projector's schema.
std::string fresh_db(std::string_view prefix) {
  auto& pg = PostgresFixture::shared();
  std::string url = pg.create_database(pg.unique_name(prefix));
  std::ifstream in(kMigration);
  REQUIRE(in.good());
  std::stringstream sql;
  sql << in.rdbuf();
  exec(url, sql.str());
  return url;
}

// A stand-in for the built dashboard (api/web/dist needs npm): the server only serves files.
fs::path web_fixture_dir() {
  static TempDir dir("api-web");
  static bool written = [] {
    fs::create_directories(dir.path());
    std::ofstream(dir.path() / "index.html") << "<!doctype html><div id=\"root\"></div>";
    std::ofstream(dir.path() / "app.js") << "document.getElementById('root').textContent = 'x';";
    return true;
  }();
  (void)written;
  return dir.path();
}

api::ApiConfig config_for(const std::string& pg_url) {
  api::ApiConfig c;
  c.listen_port = 0;
  c.pg_url = pg_url;
  c.pg_pool_size = 2;
  c.nats_url = shared_nats().url();
  c.nats_creds = shared_nats().services_creds().string();
  c.web_dir = web_fixture_dir();
  c.request_timeout = 5s;
  c.shutdown_grace = 5s;
  return c;
}

std::unique_ptr<api::App> start_app(const api::ApiConfig& config,
                                    const Clock& clock = real_clock()) {
  auto app = api::App::create(config, clock);
  REQUIRE_MESSAGE(app.has_value(), app.error().message);
  auto started = (*app)->start();
  REQUIRE_MESSAGE(started.has_value(), started.error().message);
  return std::move(*app);
}

boost::json::object parse_object(const std::string& body) {
  return boost::json::parse(body).as_object();
}

// Polls /healthz until it answers 200 (the NATS connect may still be in flight).
HttpResponse healthy(int port) {
  HttpResponse res;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    res = http_get(port, "/healthz");
    if (res.status == 200) break;
  }
  return res;
}

void check_problem(const HttpResponse& res, int status) {
  CHECK(res.status == status);
  CHECK(res.headers.at("content-type") == "application/problem+json");
  auto body = parse_object(res.body);
  CHECK(body.at("status").as_int64() == status);
  CHECK_FALSE(body.at("type").as_string().empty());
  CHECK_FALSE(body.at("title").as_string().empty());
  CHECK(body.contains("detail"));
  CHECK(body.at("correlation_id").as_string() == res.headers.at("x-correlation-id"));
  CHECK(body.at("correlation_id").as_string().size() > 0);
}

}  // namespace

TEST_CASE("healthz reports PostgreSQL and NATS") {
  auto app = start_app(config_for(fresh_db("api_health")));
  auto res = healthy(app->port());
  REQUIRE(res.status == 200);
  CHECK(res.headers.at("content-type") == "application/json");
  auto body = parse_object(res.body);
  CHECK(body.at("status").as_string() == "ok");
  CHECK(body.at("postgres").as_string() == "ok");
  CHECK(body.at("nats").as_string() == "ok");
  CHECK(body.at("stream_losses").as_int64() == 0);  // the projector's 0009 did not run yet
}

TEST_CASE("healthz counts the stream losses not acknowledged") {
  auto url = fresh_db("api_health_losses");
  std::ifstream in(fs::path(RMM_SOURCE_DIR) / "projector/migrations/0009_stream_losses.sql");
  std::stringstream sql;
  sql << in.rdbuf();
  exec(url, sql.str());
  exec(url,
       "INSERT INTO ops.stream_losses (projection, stream, from_seq, to_seq, count, reason) "
       "VALUES ('core', 'RMM_EVENTS', 56, 95, 40, 'test'), ('core', 'RMM_EVENTS', 99, 99, 1, "
       "'test'); UPDATE ops.stream_losses SET acknowledged_at = now() WHERE from_seq = 99");
  auto app = start_app(config_for(url));
  auto res = healthy(app->port());
  REQUIRE(res.status == 200);  // the API itself is fine
  CHECK(parse_object(res.body).at("stream_losses").as_int64() == 1);
}

TEST_CASE("healthz is 503 naming what failed, and the API starts without PostgreSQL or NATS") {
  auto config = config_for(PostgresFixture::shared().url("no_such_database"));
  config.nats_url = "nats://127.0.0.1:" + std::to_string(free_tcp_port());
  auto app = start_app(config);
  auto res = http_get(app->port(), "/healthz");
  CHECK(res.status == 503);
  auto body = parse_object(res.body);
  CHECK(body.at("postgres").as_string() == "unavailable");
  CHECK(body.at("nats").as_string() == "unavailable");
  CHECK(res.body.find("no_such_database") == std::string::npos);

  // A well-formed token: the credential store itself is unreachable.
  auto agents = http_request(app->port(), "GET", "/api/v1/agents", {},
                             {{"authorization", "Bearer " + std::string(43, 'A')}});
  check_problem(agents, 503);
  CHECK(agents.body.find("no_such_database") == std::string::npos);
}

TEST_CASE("errors are problem+json: unknown route 404, wrong method 405") {
  auto app = start_app(config_for(fresh_db("api_errors")));
  int port = app->port();

  check_problem(http_get(port, "/no/such/route"), 404);
  check_problem(http_get(port, "/api/v2/agents"), 404);
  auto wrong = http_request(port, "DELETE", "/api/v1/agents");
  check_problem(wrong, 405);
  CHECK(wrong.headers.at("allow") == "GET");

  // A SQL failure behind a signed-in route: api_reads_test ("a SQL failure is a generic 500").
}

TEST_CASE("static files: the dashboard, and path traversal refused") {
  auto app = start_app(config_for(fresh_db("api_static")));
  int port = app->port();

  auto index = http_get(port, "/");
  REQUIRE(index.status == 200);
  CHECK(index.headers.at("content-type") == "text/html; charset=utf-8");
  CHECK(index.body.find("id=\"root\"") != std::string::npos);
  auto js = http_get(port, "/app.js");
  REQUIRE(js.status == 200);
  CHECK(js.headers.at("content-type") == "text/javascript; charset=utf-8");
  CHECK(js.body.find("textContent") != std::string::npos);

  for (std::string target :
       {"/../CMakeLists.txt", "/%2e%2e/CMakeLists.txt", "/%2E%2E/%2e%2e/CMakeLists.txt",
        "/..%2FCMakeLists.txt", "/../../api/web/../../CMakeLists.txt"}) {
    CAPTURE(target);
    auto res = http_get(port, target);
    CHECK((res.status == 400 || res.status == 404));
    CHECK(res.body.find("cmake_minimum_required") == std::string::npos);
    CHECK(res.headers.at("content-type") == "application/problem+json");
  }
}

TEST_CASE("request limits: an oversized body is refused with 413") {
  auto config = config_for(fresh_db("api_limits"));
  config.max_body = 1024;
  auto app = start_app(config);
  auto res = http_request(app->port(), "POST", "/api/v1/agents", std::string(4096, 'x'));
  check_problem(res, 413);
  auto small = http_request(app->port(), "POST", "/api/v1/agents", std::string(16, 'x'));
  check_problem(small, 405);
}

TEST_CASE("stop() closes idle keep-alive connections without waiting for the grace period") {
  auto config = config_for(fresh_db("api_stop"));
  config.shutdown_grace = 20s;
  auto app = start_app(config);
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket idle(ioc);
  idle.connect({boost::asio::ip::make_address("127.0.0.1"), app->port()});
  // Make sure the server has accepted it before stopping.
  REQUIRE(http_get(app->port(), "/healthz").status != 0);

  auto start = std::chrono::steady_clock::now();
  app->stop();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  char byte = 0;
  boost::system::error_code ec;
  idle.read_some(boost::asio::buffer(&byte, 1), ec);
  CHECK(ec);  // the server closed it
  CHECK_THROWS(http_get(app->port(), "/healthz"));
}

TEST_CASE("the rmm-api binary: --help, serving, and exit 0 on SIGTERM") {
  TempDir dir("api-bin");
  Process help = Process::start({kBin + "/rmm-api", {"--help"}, {}, dir / "help.log"});
  CHECK(help.wait(10s) == 0);
  std::ifstream help_log(dir / "help.log");
  std::string help_text((std::istreambuf_iterator<char>(help_log)), {});
  CHECK(help_text.find("--pg-url") != std::string::npos);
  CHECK(help_text.find("--offline-after") != std::string::npos);

  Process bad = Process::start({kBin + "/rmm-api", {"--threads", "0"}, {}, dir / "bad.log"});
  CHECK(bad.wait(10s) == 2);

  std::string url = fresh_db("api_bin");
  int port = free_tcp_port();
  Process api = Process::start(
      {kBin + "/rmm-api",
       {"--listen", "127.0.0.1:" + std::to_string(port), "--pg-url", url, "--nats-url",
        shared_nats().url(), "--nats-creds", shared_nats().services_creds().string()},
       {},
       dir / "api.log"});
  HttpResponse res;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline && res.status != 200;
       std::this_thread::sleep_for(100ms)) {
    try {
      res = http_get(port, "/healthz");
    } catch (const std::exception&) {
      // not listening yet
    }
  }
  CHECK(res.status == 200);
  CHECK(http_get(port, "/api/v1/agents").status == 401);  // served, and signed-in only
  CHECK(api.terminate(10s) == 0);
}
