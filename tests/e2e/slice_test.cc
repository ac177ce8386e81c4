// The first end-to-end slice through every real component: rmm-agent publishes AgentStarted and
// heartbeats to a real nats-server, rmm-projector folds them into a real PostgreSQL, and rmm-api
// serves them.
#include <doctest/doctest.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <pqxx/nontransaction>
#include <thread>

#include "common/files.h"
#include "common/ids.h"
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

const std::string kBin = RMM_BIN_DIR;

// The agent's state dir as rmm-admin agent-credential leaves it.
fs::path make_agent_state(const TempDir& dir, const NatsServerFixture& nats, const AgentId& id) {
  fs::path state = dir / "agent";
  fs::create_directories(state);
  fs::copy_file(nats.mint_agent(id), state / "agent.creds");
  REQUIRE(files::write_atomic(state / "agent_id", id.str() + "\n").has_value());
  nats.write_agent_command_keys(state);
  return state;
}

// Signs in as the owner that `rmm-api create-user` made, once the projector has folded the
// user (polled in PostgreSQL, so failed sign-ins never count towards the lockout).
// Waits until the projector has applied its migrations (the API's credential store among them).
void wait_for_migrations(const std::string& db) {
  auto conn = pg::connect(db, {.attempts = 5});
  REQUIRE(conn.has_value());
  bool ready = false;
  for (int i = 0; i < 150 && !ready; ++i) {  // 15 s at most
    pqxx::nontransaction tx(**conn);
    ready = tx.exec1(
                  "SELECT to_regclass('auth.credentials') IS NOT NULL "
                  "AND to_regclass('public.users') IS NOT NULL")[0]
                .as<bool>();
    if (!ready) std::this_thread::sleep_for(100ms);
  }
  REQUIRE_MESSAGE(ready, "the projector did not apply its migrations");
}

std::string sign_in(int api_port, const std::string& db, const std::string& password) {
  auto conn = pg::connect(db, {.attempts = 5});
  REQUIRE(conn.has_value());
  bool folded = false;
  for (int i = 0; i < 150 && !folded; ++i) {  // 15 s at most
    pqxx::nontransaction tx(**conn);
    folded = tx.exec1("SELECT count(*) FROM users WHERE username = 'owner'")[0].as<int>() == 1;
    if (!folded) std::this_thread::sleep_for(100ms);
  }
  REQUIRE_MESSAGE(folded, "the owner was not projected into users");
  boost::json::object body{{"username", "owner"}, {"password", password}};
  auto res = http_request(api_port, "POST", "/api/v1/auth/login", boost::json::serialize(body),
                          {{"Content-Type", "application/json"}});
  REQUIRE_MESSAGE(res.status == 200, res.body);
  return std::string(boost::json::parse(res.body).as_object().at("token").as_string());
}

// The agent's JSON object from GET /api/v1/agents, or null while it is not there.
boost::json::object find_agent(int api_port, const std::string& token, const AgentId& id) {
  try {
    auto res =
        http_request(api_port, "GET", "/api/v1/agents", {}, {{"Authorization", "Bearer " + token}});
    if (res.status != 200) return {};
    auto doc = boost::json::parse(res.body);
    for (const auto& a : doc.as_object().at("items").as_array()) {
      if (a.as_object().at("id").as_string() == id.str()) return a.as_object();
    }
  } catch (const std::exception&) {
    // Not up yet: the caller polls within a deadline.
  }
  return {};
}

}  // namespace

TEST_CASE("an agent started on this machine is visible through the API within seconds") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  std::string db = pg.create_database(pg.unique_name("slice"));
  TempDir dir("slice");
  AgentId id = AgentId::generate(real_clock());
  fs::path state = make_agent_state(dir, nats, id);
  int api_port = free_tcp_port();

  Process projector =
      Process::start({kBin + "/rmm-projector",
                      {"--nats-url", nats.url(), "--nats-creds",
                       nats.identity().projector_creds().string(), "--pg-url", db, "--http-port=0"},
                      {},
                      dir / "projector.log"});
  Process api = Process::start(
      {kBin + "/rmm-api",
       {"--listen", "127.0.0.1:" + std::to_string(api_port), "--pg-url", db, "--nats-url",
        nats.url(), "--nats-creds", nats.identity().api_creds().string(), "--command-keys",
        nats.command_keys_dir().string()},
       {},
       dir / "api.log"});
  // The first owner, as tools/rmm up makes it.
  wait_for_migrations(db);
  const std::string password = "slice test owner password";
  { std::ofstream(dir / "owner-password") << password << "\n"; }
  Process create_user =
      Process::start({kBin + "/rmm-api",
                      {"create-user", "--username", "owner", "--role", "owner", "--password-file",
                       (dir / "owner-password").string(), "--pg-url", db, "--nats-url", nats.url(),
                       "--nats-creds", nats.identity().api_creds().string()},
                      {},
                      dir / "create-user.log"});
  REQUIRE(create_user.wait(30s) == 0);
  const std::string token = sign_in(api_port, db, password);

  auto started = std::chrono::steady_clock::now();
  Process agent = Process::start(
      {kBin + "/rmm-agent",
       {"--state-dir", state.string(), "--nats-url", nats.url(), "--heartbeat-interval", "1s"},
       {},
       dir / "agent.log"});

  boost::json::object seen;
  for (int i = 0; i < 150 && seen.empty(); ++i) {  // 15 s at most
    seen = find_agent(api_port, token, id);
    if (seen.empty()) std::this_thread::sleep_for(100ms);
  }
  REQUIRE_MESSAGE(!seen.empty(), "agent not visible through the API; logs in ", dir.path());
  MESSAGE("visible after ",
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                started)
              .count(),
          " ms");

  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  CHECK(seen.at("hostname").as_string() == host);
  CHECK(seen.at("status").as_string() == "online");
  CHECK(seen.at("version").as_string() == RMM_AGENT_VERSION_STRING);
  CHECK_FALSE(seen.at("os").as_string().empty());

  // Heartbeats keep arriving: last_seen (event time, RFC 3339 UTC, fixed width) moves on.
  std::string first_seen(seen.at("last_seen").as_string());
  boost::json::object later;
  for (int i = 0; i < 50; ++i) {  // 5 s at most
    later = find_agent(api_port, token, id);
    if (!later.empty() && std::string(later.at("last_seen").as_string()) > first_seen) break;
    std::this_thread::sleep_for(100ms);
  }
  REQUIRE_FALSE(later.empty());
  CHECK(std::string(later.at("last_seen").as_string()) > first_seen);

  // A command through the API: signed with the installation's key by rmm-api (which, like the
  // projector, runs with its own least-privilege credential), run by the agent, reported back.
  boost::json::object command{{"agent_ids", boost::json::array{boost::json::string(id.str())}},
                              {"kind", "shell"},
                              {"script", "echo e2e"}};
  auto issued =
      http_request(api_port, "POST", "/api/v1/commands", boost::json::serialize(command),
                   {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + token}});
  REQUIRE_MESSAGE(issued.status == 202, issued.body);
  const std::string command_id(boost::json::parse(issued.body)
                                   .as_object()
                                   .at("commands")
                                   .as_array()
                                   .at(0)
                                   .as_object()
                                   .at("id")
                                   .as_string());
  std::string status;
  for (int i = 0; i < 150 && status != "completed"; ++i) {  // 15 s at most
    auto res = http_request(api_port, "GET", "/api/v1/commands/" + command_id, {},
                            {{"Authorization", "Bearer " + token}});
    if (res.status == 200) {
      status = std::string(boost::json::parse(res.body).as_object().at("status").as_string());
    }
    if (status != "completed") std::this_thread::sleep_for(100ms);
  }
  CHECK_MESSAGE(status == "completed", "command status '", status, "'; logs in ", dir.path());

  // Every component shuts down cleanly on SIGTERM.
  CHECK(agent.terminate() == 0);
  CHECK(api.terminate() == 0);
  CHECK(projector.terminate() == 0);
}
