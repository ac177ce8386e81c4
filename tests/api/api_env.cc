#include "tests/api/api_env.h"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "api/auth/passwords.h"
#include "common/pg.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/postgres.h"

namespace rmm::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

NatsServerFixture& shared_nats() {
  static NatsServerFixture nats(NatsServerOptions{.apply_streams = false});
  return nats;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE_MESSAGE(in.good(), p.string());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// One hash for every seeded user with the default password (Argon2id costs ~0.1 s each).
const std::string& default_hash() {
  static const std::string hash = *api::hash_password("correct horse battery");
  return hash;
}

}  // namespace

ApiEnv::ApiEnv(std::string_view prefix, const Clock& clock,
               std::function<void(api::ApiConfig&)> tweak)
    : ApiEnv(PostgresFixture::shared(), prefix, clock, std::move(tweak)) {}

ApiEnv::ApiEnv(PostgresFixture& pg, std::string_view prefix, const Clock& clock,
               std::function<void(api::ApiConfig&)> tweak) {
  pg_url_ = pg.create_database(pg.unique_name(prefix));
  const fs::path dir = fs::path(RMM_SOURCE_DIR) / "projector/migrations";
  for (const char* m :
       {"0001_initial.sql", "0002_tenancy_enrollment.sql", "0003_telemetry.sql",
        "0004_control_plane.sql", "0005_releases.sql", "0007_rollout_exclusions.sql",
        "0013_auth_sessions_sources.sql", "0014_event_bounds.sql", "0015_auth_totp.sql",
        "0017_auth_source_buckets.sql"}) {
    exec(read_file(dir / m));
  }
  api::ApiConfig c;
  c.listen_port = 0;
  c.pg_url = pg_url_;
  c.pg_pool_size = 3;
  c.nats_url = shared_nats().url();
  c.nats_creds = shared_nats().services_creds().string();
  c.web_dir = (fs::path(RMM_SOURCE_DIR) / "api/web/dist").string();
  c.request_timeout = 5s;
  c.shutdown_grace = 5s;
  if (tweak) tweak(c);
  auto app = api::App::create(c, clock);
  REQUIRE_MESSAGE(app.has_value(), app.error().message);
  auto started = (*app)->start();
  REQUIRE_MESSAGE(started.has_value(), started.error().message);
  app_ = std::move(*app);
}

ApiEnv::~ApiEnv() {
  if (app_) app_->stop();
}

void ApiEnv::exec(const std::string& sql) const {
  auto conn = pg::connect(pg_url_);
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  pqxx::nontransaction tx(**conn);
  tx.exec(sql);
}

std::string ApiEnv::add_user(const std::string& username, const std::string& role,
                             const std::vector<std::pair<std::string, std::string>>& scopes,
                             const std::string& password) {
  std::string id = UserId::generate(real_clock()).str();
  std::string hash =
      password == "correct horse battery" ? default_hash() : *api::hash_password(password);
  auto conn = pg::connect(pg_url_);
  REQUIRE(conn.has_value());
  pqxx::work tx(**conn);
  tx.exec_params(
      "INSERT INTO users (id, username, role, created_by, created_at, updated_at)"
      " VALUES ($1::uuid, $2, $3, 'test', now(), now())",
      id, username, role);
  for (const auto& [scope, scope_id] : scopes) {
    tx.exec_params("INSERT INTO user_scopes VALUES ($1::uuid, $2, $3::uuid)", id, scope, scope_id);
  }
  tx.exec_params(
      "INSERT INTO auth.credentials (user_id, username, password_hash) VALUES ($1::uuid, $2, $3)",
      id, username, hash);
  tx.commit();
  return id;
}

std::string ApiEnv::login(const std::string& username, const std::string& password) const {
  boost::json::object body{{"username", username}, {"password", password}};
  auto res = http_request(port(), "POST", "/api/v1/auth/login", boost::json::serialize(body),
                          {{"content-type", "application/json"}});
  REQUIRE_MESSAGE(res.status == 200, res.body);
  return std::string(parse_object(res.body).at("token").as_string());
}

HttpResponse ApiEnv::get(const std::string& target, const std::string& token) const {
  return send("GET", target, token);
}

HttpResponse ApiEnv::send(const std::string& method, const std::string& target,
                          const std::string& token, const std::string& body) const {
  std::map<std::string, std::string> headers;
  if (!token.empty()) headers["authorization"] = "Bearer " + token;
  if (!body.empty()) headers["content-type"] = "application/json";
  return http_request(port(), method, target, body, headers);
}

boost::json::object parse_object(const std::string& body) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  REQUIRE_MESSAGE(!ec, body);
  REQUIRE_MESSAGE(v.is_object(), body);
  return v.as_object();
}

void check_problem(const HttpResponse& res, int status) {
  CHECK_MESSAGE(res.status == status, res.body);
  CHECK(res.headers.at("content-type") == "application/problem+json");
  auto body = parse_object(res.body);
  CHECK(body.at("status").as_int64() == status);
  CHECK_FALSE(body.at("title").as_string().empty());
  CHECK(body.at("correlation_id").as_string() == res.headers.at("x-correlation-id"));
}

}  // namespace rmm::test
