// Two rmm-api processes (the real binary, as behind a load balancer) on one PostgreSQL and one
// nats-server, with the real rmm-projector and rmm-agent: a session made on one API works on the
// other and ends there (its live streams too) when signed out on either; a command issued through
// API A shows on the live stream of API B until it completes; failed sign-ins split between the
// APIs lock a username for an address as one, and one address's attempts are counted over both;
// the steps of a TOTP enrolment, of a second-factor sign-in and of an impersonation may each reach
// either API (docs/operations.md "Several APIs").
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "api/auth/totp.h"
#include "common/files.h"
#include "common/pg.h"
#include "tests/api/sse_client.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/projector_process.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

const std::string kBin = RMM_BIN_DIR;
const std::string kPassword = "two apis owner password";

// Polls `done` every 100 ms for at most `limit`.
template <class Fn>
bool eventually(std::chrono::milliseconds limit, Fn done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

// GET /healthz answers 200 (the process is listening and sees PostgreSQL and the broker).
bool healthy(int port) {
  try {
    return http_get(port, "/healthz").status == 200;
  } catch (const std::exception&) {
    return false;  // not listening yet
  }
}

// nats-server, PostgreSQL, rmm-projector, two rmm-api processes behind a "proxy" at 127.0.0.1
// (trusted, so a test can speak from any address with X-Forwarded-For), the first owner, and one
// rmm-agent. Started once for the whole binary.
struct TwoApis {
  TempDir dir{"two-apis"};
  NatsServerFixture nats;
  std::string db;
  std::unique_ptr<pqxx::connection> conn;
  Process projector;
  int port_a = 0, port_b = 0;
  Process api_a, api_b;
  AgentId agent = AgentId::generate(real_clock());
  Process agent_process;

  TwoApis() {
    auto& pg = PostgresFixture::shared();
    db = pg.create_database(pg.unique_name("two_apis"));
    conn = std::make_unique<pqxx::connection>(db);
    projector = start_projector(kBin, nats, db, *conn, dir / "projector.log");
    port_a = start_api(api_a, "a");
    port_b = start_api(api_b, "b");
    create_owner();
    start_agent();
  }

  int start_api(Process& p, const std::string& name) {
    // A port taken between free_tcp_port() and the bind makes rmm-api exit: try another.
    for (int attempt = 0; attempt < 5; ++attempt) {
      const int port = free_tcp_port();
      p = Process::start(
          {kBin + "/rmm-api",
           {"--listen", fmt::format("127.0.0.1:{}", port), "--pg-url", db, "--nats-url", nats.url(),
            "--nats-creds", nats.identity().api_creds().string(), "--command-keys",
            nats.command_keys_dir().string(), "--trusted-proxies", "127.0.0.1"},
           {},
           dir / fmt::format("api-{}.log", name)});
      if (eventually(20s, [&] { return healthy(port) || !p.running(); }) && p.running()) {
        return port;
      }
      p.terminate();
    }
    FAIL("rmm-api ", name, " did not come up; logs in ", dir.path());
    return 0;
  }

  // The first owner, as tools/rmm up makes it, projected into `users`.
  void create_owner() {
    { std::ofstream(dir / "owner-password") << kPassword << "\n"; }
    Process create_user =
        Process::start({kBin + "/rmm-api",
                        {"create-user", "--username", "owner", "--role", "owner", "--password-file",
                         (dir / "owner-password").string(), "--pg-url", db, "--nats-url",
                         nats.url(), "--nats-creds", nats.identity().api_creds().string()},
                        {},
                        dir / "create-user.log"});
    REQUIRE(create_user.wait(30s) == 0);
    REQUIRE_MESSAGE(eventually(15s,
                               [&] {
                                 pqxx::nontransaction tx(*conn);
                                 return tx.exec1(
                                              "SELECT count(*) FROM users WHERE username = "
                                              "'owner'")[0]
                                            .as<int>() == 1;
                               }),
                    "the owner was not projected");
  }

  void start_agent() {
    const fs::path state = dir / "agent";
    fs::create_directories(state);
    fs::copy_file(nats.mint_agent(agent), state / "agent.creds");
    REQUIRE(files::write_atomic(state / "agent_id", agent.str() + "\n").has_value());
    nats.write_agent_command_keys(state);
    agent_process = Process::start(
        {kBin + "/rmm-agent",
         {"--state-dir", state.string(), "--nats-url", nats.url(), "--heartbeat-interval", "1s"},
         {},
         dir / "agent.log"});
  }
};

TwoApis& stack() {
  static TwoApis s;
  return s;
}

HttpResponse login(int port, const std::string& password, const std::string& from = {},
                   const std::string& username = "owner") {
  std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
  if (!from.empty()) headers["X-Forwarded-For"] = from;
  return http_request(
      port, "POST", "/api/v1/auth/login",
      boost::json::serialize(boost::json::object{{"username", username}, {"password", password}}),
      headers, 15s);
}

std::string token_of(const HttpResponse& r) {
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return std::string(boost::json::parse(r.body).as_object().at("token").as_string());
}

HttpResponse call(int port, const std::string& method, const std::string& target,
                  const std::string& token, const std::string& body = {}) {
  std::map<std::string, std::string> headers{{"Authorization", "Bearer " + token}};
  if (!body.empty()) headers["Content-Type"] = "application/json";
  return http_request(port, method, target, body, headers, 15s);
}

}  // namespace

TEST_CASE(
    "two APIs: a session made on one is valid on the other, and signing out ends it on both") {
  auto& s = stack();
  const std::string token = token_of(login(s.port_a, kPassword));
  auto me = call(s.port_b, "GET", "/api/v1/auth/me", token);
  REQUIRE_MESSAGE(me.status == 200, me.body);
  CHECK(boost::json::parse(me.body).as_object().at("username").as_string() == "owner");
  CHECK(call(s.port_a, "GET", "/api/v1/auth/me", token).status == 200);

  const std::string other = token_of(login(s.port_b, kPassword));
  SseClient live(s.port_a, "/api/v1/live?access_token=" + token);
  SseClient other_live(s.port_a, "/api/v1/live?access_token=" + other);
  REQUIRE_MESSAGE(live.wait_for(": connected", 10s), live.text());
  REQUIRE_MESSAGE(other_live.wait_for(": connected", 10s), other_live.text());
  CHECK(call(s.port_b, "POST", "/api/v1/auth/logout", token).status == 204);
  CHECK(call(s.port_a, "GET", "/api/v1/auth/me", token).status == 401);
  CHECK(call(s.port_b, "GET", "/api/v1/auth/me", token).status == 401);
  // A's stream of that session ends too (A checks its streams' sessions every 5 s).
  CHECK_MESSAGE(live.wait_for("event: bye\ndata: {\"reason\":\"signed_out\"}", 15s), live.text());
  CHECK(live.wait_closed(5s));
  // Only that session: the other sign-in goes on, on both, and so does its stream.
  CHECK(call(s.port_a, "GET", "/api/v1/auth/me", other).status == 200);
  CHECK(call(s.port_b, "GET", "/api/v1/auth/me", other).status == 200);
  CHECK_FALSE(other_live.wait_closed(0ms));
  CHECK(other_live.text().find("signed_out") == std::string::npos);
}

TEST_CASE("two APIs: a command issued through A shows on B's live stream until it completes") {
  auto& s = stack();
  const std::string token = token_of(login(s.port_a, kPassword));
  // The agent is up (seen through B's read models).
  REQUIRE_MESSAGE(eventually(30s,
                             [&] {
                               auto r =
                                   call(s.port_b, "GET", "/api/v1/agents/" + s.agent.str(), token);
                               return r.status == 200 &&
                                      r.body.find(R"("status":"online")") != std::string::npos;
                             }),
                  "the agent did not come online; logs in ", s.dir.path());

  SseClient live(s.port_b, "/api/v1/live?access_token=" + token);
  REQUIRE_MESSAGE(live.wait_for(": connected", 10s), live.text());

  boost::json::object command{{"agent_ids", boost::json::array{boost::json::string(s.agent.str())}},
                              {"kind", "shell"},
                              {"script", "echo through-api-a"}};
  auto issued = call(s.port_a, "POST", "/api/v1/commands", token, boost::json::serialize(command));
  REQUIRE_MESSAGE(issued.status == 202, issued.body);
  const std::string id(boost::json::parse(issued.body)
                           .as_object()
                           .at("commands")
                           .as_array()
                           .at(0)
                           .as_object()
                           .at("id")
                           .as_string());
  const std::string frame = "event: command\ndata: {\"id\":\"" + id + "\"";
  CHECK_MESSAGE(live.wait_for(frame, 15s), live.text());
  CHECK_MESSAGE(live.wait_for(R"("status":"queued")", 5s), live.text());
  // The agent's reports (its own events, not the API's) reach B's stream too.
  CHECK_MESSAGE(live.wait_for("through-api-a", 30s), live.text());
  CHECK_MESSAGE(live.wait_for(R"("status":"completed")", 30s), live.text());
}

TEST_CASE("two APIs: failed sign-ins split between them lock the username for that address") {
  auto& s = stack();
  const std::string stranger = "203.0.113.50";
  for (int i = 0; i < 5; ++i) {
    auto r = login(i % 2 == 0 ? s.port_a : s.port_b, "guess", stranger);
    CHECK_MESSAGE(r.status == 401, r.body);
  }
  // Five failures in all (three on A, two on B): locked on both for that address...
  for (int port : {s.port_a, s.port_b}) {
    auto locked = login(port, kPassword, stranger);
    CHECK_MESSAGE(locked.status == 429, locked.body);
    CHECK(locked.body.find("this account is locked") != std::string::npos);
  }
  // ...and not for the owner at its own.
  CHECK(login(s.port_b, kPassword, "198.51.100.50").status == 200);
}

TEST_CASE("two APIs: one address's sign-in attempts are counted over both") {
  auto& s = stack();
  const std::string sprayer = "203.0.113.77";
  // login-source-burst (10) attempts, alternating: with a bucket per process there were 20.
  for (int i = 0; i < 10; ++i) {
    auto r = login(i % 2 == 0 ? s.port_a : s.port_b, "guess", sprayer, fmt::format("spray{}", i));
    CHECK_MESSAGE(r.status == 401, r.body);
  }
  for (int port : {s.port_a, s.port_b}) {
    auto refused = login(port, kPassword, sprayer);
    CHECK_MESSAGE(refused.status == 429, refused.body);
    CHECK(refused.body.find("too many sign-in attempts from your address") != std::string::npos);
    CHECK(refused.headers.count("retry-after") == 1);
  }
  // Another address is not affected.
  CHECK(login(s.port_a, kPassword, "198.51.100.77").status == 200);
}

TEST_CASE("two APIs: TOTP enrolment, second-factor sign-in and impersonation, a step on each") {
  auto& s = stack();
  const std::string owner = token_of(login(s.port_a, kPassword));
  const std::string password = "tina's own long password";
  boost::json::object user{
      {"username", "tina"},
      {"display_name", "Tina"},
      {"password", password},
      {"role", "technician"},
      {"scopes", boost::json::array{boost::json::object{
                     {"scope", "global"}, {"id", "00000000-0000-0000-0000-000000000000"}}}}};
  auto made =
      call(s.port_b, "POST", "/api/v1/users?wait=10000", owner, boost::json::serialize(user));
  REQUIRE_MESSAGE(made.status / 100 == 2, made.body);

  // The enrolment starts on A and is confirmed on B.
  const std::string tina = token_of(login(s.port_a, password, {}, "tina"));
  auto started = call(s.port_a, "POST", "/api/v1/auth/totp", tina);
  REQUIRE_MESSAGE(started.status == 200, started.body);
  auto secret = api::totp::from_base32(
      std::string(boost::json::parse(started.body).as_object().at("secret").as_string()));
  REQUIRE(secret.has_value());
  const std::string code =
      api::totp::hotp(*secret, static_cast<std::uint64_t>(api::totp::step_at(real_clock().now())));
  auto confirmed = call(s.port_b, "POST", "/api/v1/auth/totp/confirm", tina,
                        boost::json::serialize(boost::json::object{{"code", code}}));
  REQUIRE_MESSAGE(confirmed.status == 200, confirmed.body);
  const std::string recovery(boost::json::parse(confirmed.body)
                                 .as_object()
                                 .at("recovery_codes")
                                 .as_array()
                                 .at(0)
                                 .as_string());

  // The password on B, the second factor on A (a recovery code: the step's code is spent).
  auto first = login(s.port_b, password, {}, "tina");
  REQUIRE_MESSAGE(first.status == 200, first.body);
  const auto pending = boost::json::parse(first.body).as_object();
  REQUIRE(pending.at("second_factor").as_string() == "totp");
  auto second = http_request(
      s.port_a, "POST", "/api/v1/auth/login/second-factor",
      boost::json::serialize(boost::json::object{{"pending_token", pending.at("pending_token")},
                                                 {"recovery_code", recovery}}),
      {{"Content-Type", "application/json"}}, 15s);
  const std::string session = token_of(second);
  auto me = call(s.port_b, "GET", "/api/v1/auth/me", session);
  CHECK_MESSAGE(me.status == 200, me.body);
  CHECK(boost::json::parse(me.body).as_object().at("username").as_string() == "tina");

  // An impersonation started on B acts on A, and ends with the owner's sign-out on A.
  const std::string tina_id(boost::json::parse(made.body).as_object().at("id").as_string());
  auto as = call(s.port_b, "POST", "/api/v1/auth/impersonate", owner,
                 boost::json::serialize(boost::json::object{{"user_id", tina_id}}));
  REQUIRE_MESSAGE(as.status == 200, as.body);
  const std::string acting = token_of(as);
  auto acting_me = call(s.port_a, "GET", "/api/v1/auth/me", acting);
  REQUIRE_MESSAGE(acting_me.status == 200, acting_me.body);
  CHECK(boost::json::parse(acting_me.body).as_object().at("username").as_string() == "tina");
  CHECK(call(s.port_a, "POST", "/api/v1/auth/logout", owner).status == 204);
  CHECK(call(s.port_b, "GET", "/api/v1/auth/me", acting).status == 401);
}

// Last (doctest runs a file's tests in order): the processes under the sanitizers end cleanly.
TEST_CASE("two APIs: both stop cleanly on SIGTERM") {
  auto& s = stack();
  CHECK(s.api_a.terminate() == 0);
  CHECK(s.api_b.terminate() == 0);
}
