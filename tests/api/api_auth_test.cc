// Sign-in, sessions, lockout, expiry and impersonation against a real PostgreSQL.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "tests/api/api_env.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

// 2026-01-02T03:05:00Z
constexpr UnixNanos kStart = 1'767'323'100'000'000'000;
const std::string kClientA = "0190a5c2-0000-7000-8000-00000000000a";

HttpResponse try_login(const ApiEnv& env, const std::string& user, const std::string& password) {
  return env.send(
      "POST", "/api/v1/auth/login", "",
      boost::json::serialize(boost::json::object{{"username", user}, {"password", password}}));
}

// Sends this process's stderr (the log) to a file until destroyed.
class StderrCapture {
 public:
  explicit StderrCapture(const std::filesystem::path& file) : file_(file) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    FILE* f = std::fopen(file.c_str(), "w");
    REQUIRE(f != nullptr);
    ::dup2(::fileno(f), STDERR_FILENO);
    std::fclose(f);
  }
  ~StderrCapture() { restore(); }
  // Restores stderr and returns what was written meanwhile.
  std::string text() {
    restore();
    std::ifstream in(file_, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void restore() {
    if (saved_ < 0) return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }
  std::filesystem::path file_;
  int saved_ = -1;
};

}  // namespace

TEST_CASE("a login name's control characters reach the log escaped, never raw") {
  FakeClock clock(kStart);
  ApiEnv env("api_auth_ctl", clock);
  TempDir dir("api-auth-log");
  const std::string name =
      std::string("evil\x1b[2J\r\x07") + std::string(1, '\0') + "\nts=2026 level=error msg=forged";
  HttpResponse res;
  std::string log;
  {
    StderrCapture capture(dir / "stderr.log");
    res = try_login(env, name, "correct horse battery");
    log = capture.text();
  }
  check_problem(res, 401);
  CHECK(log.find("auth.login_failed") != std::string::npos);
  for (char c : {'\x1b', '\r', '\x07', '\0'}) {
    CAPTURE(static_cast<int>(c));
    CHECK(log.find(c) == std::string::npos);
  }
  CHECK(log.find("\nts=2026 level=error") == std::string::npos);  // no forged line
  CHECK(log.find("evil\\x1b[2J\\r\\x07\\x00\\nts=2026") != std::string::npos);
}

TEST_CASE("login, me, logout: the token works until revoked") {
  FakeClock clock(kStart);
  ApiEnv env("api_auth_login", clock);
  std::string id = env.add_user("alice", "technician", {{"client", kClientA}});

  auto res = try_login(env, "alice", "correct horse battery");
  REQUIRE(res.status == 200);
  auto body = parse_object(res.body);
  std::string token(body.at("token").as_string());
  CHECK(token.size() == 43);
  CHECK(body.at("expires_at").as_string() == "2026-01-02T15:05:00.000Z");  // 12 h
  CHECK(body.at("user").at("id").as_string() == id);
  CHECK(body.at("user").at("role").as_string() == "technician");

  auto me = env.get("/api/v1/auth/me", token);
  REQUIRE(me.status == 200);
  auto m = parse_object(me.body);
  CHECK(m.at("username").as_string() == "alice");
  CHECK(m.at("impersonator").is_null());
  REQUIRE(m.at("scopes").as_array().size() == 1);
  CHECK(m.at("scopes").as_array()[0].at("scope").as_string() == "client");
  CHECK(m.at("scopes").as_array()[0].at("id").as_string() == kClientA);

  // EventSource cannot set headers: ?access_token= works as well.
  CHECK(env.get("/api/v1/auth/me?access_token=" + token, "").status == 200);

  CHECK(env.send("POST", "/api/v1/auth/logout", token).status == 204);
  auto after = env.get("/api/v1/auth/me", token);
  check_problem(after, 401);
  CHECK(after.headers.at("www-authenticate") == "Bearer");
}

TEST_CASE("bad credentials: one 401 for wrong password and unknown user; 400 for a bad body") {
  FakeClock clock(kStart);
  ApiEnv env("api_auth_bad", clock);
  env.add_user("bob", "admin", {{"global", kNilUuid}});
  auto wrong = try_login(env, "bob", "not the password");
  auto unknown = try_login(env, "nobody", "correct horse battery");
  check_problem(wrong, 401);
  check_problem(unknown, 401);
  CHECK(parse_object(wrong.body).at("detail") == parse_object(unknown.body).at("detail"));

  check_problem(env.send("POST", "/api/v1/auth/login", "", "{\"username\": 1}"), 400);
  check_problem(env.send("POST", "/api/v1/auth/login", "", "not json"), 400);
  check_problem(env.get("/api/v1/agents", ""), 401);
  check_problem(env.get("/api/v1/agents", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401);
  check_problem(env.get("/api/v1/agents", "short"), 401);
  // The password never comes back, nor the hash.
  CHECK(wrong.body.find("not the password") == std::string::npos);
}

TEST_CASE("lockout: 5 failures lock the username for 15 minutes, even for the right password") {
  FakeClock clock(kStart);
  ApiEnv env("api_auth_lockout", clock);
  env.add_user("carol", "technician", {});
  for (int i = 0; i < 5; ++i) check_problem(try_login(env, "carol", "wrong password"), 401);
  auto locked = try_login(env, "carol", "correct horse battery");
  check_problem(locked, 429);
  CHECK(std::stoi(locked.headers.at("retry-after")) > 800);
  clock.advance(14min);
  check_problem(try_login(env, "carol", "correct horse battery"), 429);
  clock.advance(2min);
  CHECK(try_login(env, "carol", "correct horse battery").status == 200);
  // A success clears the count: four more failures do not lock.
  for (int i = 0; i < 4; ++i) check_problem(try_login(env, "carol", "wrong password"), 401);
  CHECK(try_login(env, "carol", "correct horse battery").status == 200);
}

TEST_CASE("sessions expire after session-ttl; disabling a user ends its sessions") {
  FakeClock clock(kStart);
  ApiEnv env("api_auth_expiry", clock, [](api::ApiConfig& c) { c.session_ttl = 1h; });
  std::string id = env.add_user("dave", "read_only", {});
  std::string token = env.login("dave");
  clock.advance(59min);
  CHECK(env.get("/api/v1/auth/me", token).status == 200);
  clock.advance(2min);
  check_problem(env.get("/api/v1/auth/me", token), 401);

  std::string fresh = env.login("dave");
  env.exec("UPDATE users SET disabled = true WHERE id = '" + id + "'");
  check_problem(env.get("/api/v1/auth/me", fresh), 401);
  check_problem(try_login(env, "dave", "correct horse battery"), 401);
}

TEST_CASE("impersonation: an owner acts as a lower user, with both identities") {
  FakeClock clock(kStart);
  ApiEnv env("api_auth_imp", clock);
  std::string owner = env.add_user("olivia", "owner", {{"global", kNilUuid}});
  std::string tech = env.add_user("tom", "technician", {{"client", kClientA}});
  std::string other_owner = env.add_user("oscar", "owner", {});
  std::string owner_token = env.login("olivia");
  std::string tech_token = env.login("tom");

  auto body = [](const std::string& id) {
    return boost::json::serialize(boost::json::object{{"user_id", id}});
  };
  check_problem(env.send("POST", "/api/v1/auth/impersonate", tech_token, body(owner)), 403);
  check_problem(env.send("POST", "/api/v1/auth/impersonate", owner_token, body(other_owner)), 403);
  check_problem(env.send("POST", "/api/v1/auth/impersonate", owner_token, "{}"), 400);
  check_problem(env.send("POST", "/api/v1/auth/impersonate", owner_token,
                         body("0190a5c2-0000-7000-8000-0000000000ff")),
                404);

  auto res = env.send("POST", "/api/v1/auth/impersonate", owner_token, body(tech));
  REQUIRE(res.status == 200);
  std::string as_tech(parse_object(res.body).at("token").as_string());
  auto me = parse_object(env.get("/api/v1/auth/me", as_tech).body);
  CHECK(me.at("id").as_string() == tech);
  CHECK(me.at("role").as_string() == "technician");
  CHECK(me.at("impersonator").at("id").as_string() == owner);
  CHECK(me.at("impersonator").at("username").as_string() == "olivia");
  // Acting as the technician: the technician's rights, not the owner's.
  check_problem(env.get("/api/v1/users", as_tech), 403);
  check_problem(env.send("POST", "/api/v1/auth/impersonate", as_tech, body(tech)), 403);
  CHECK(env.get("/api/v1/users", owner_token).status == 200);
  // Disabling the owner ends the impersonated session too.
  env.exec("UPDATE users SET disabled = true WHERE id = '" + owner + "'");
  check_problem(env.get("/api/v1/auth/me", as_tech), 401);
}

TEST_CASE("impersonation ends with the owner's session: logout, expiry") {
  FakeClock clock(kStart);
  ApiEnv env("api_auth_imp_end", clock);
  env.add_user("olga", "owner", {{"global", kNilUuid}});
  std::string tech = env.add_user("ted", "technician", {{"client", kClientA}});
  const std::string body = boost::json::serialize(boost::json::object{{"user_id", tech}});
  auto impersonate = [&](const std::string& owner_token) {
    auto res = env.send("POST", "/api/v1/auth/impersonate", owner_token, body);
    REQUIRE(res.status == 200);
    return parse_object(res.body);
  };

  // The owner signs out: the session acting as the technician ends with it.
  std::string owner_token = env.login("olga");
  std::string as_tech(impersonate(owner_token).at("token").as_string());
  REQUIRE(env.get("/api/v1/auth/me", as_tech).status == 200);
  REQUIRE(env.send("POST", "/api/v1/auth/logout", owner_token).status == 204);
  check_problem(env.get("/api/v1/auth/me", as_tech), 401);

  // Another sign-in of the same owner is not affected by ending one impersonation.
  std::string second = env.login("olga");
  std::string third = env.login("olga");
  std::string from_second(impersonate(second).at("token").as_string());
  std::string from_third(impersonate(third).at("token").as_string());
  REQUIRE(env.send("POST", "/api/v1/auth/logout", second).status == 204);
  check_problem(env.get("/api/v1/auth/me", from_second), 401);
  CHECK(env.get("/api/v1/auth/me", from_third).status == 200);

  // Started 6 h into a 12 h session, it ends when the owner's session does, not 12 h later.
  clock.advance(6h);
  auto late = impersonate(third);
  CHECK(late.at("expires_at").as_string() == "2026-01-02T15:05:00.000Z");
  std::string late_token(late.at("token").as_string());
  clock.advance(6h + 1min);
  check_problem(env.get("/api/v1/auth/me", third), 401);
  check_problem(env.get("/api/v1/auth/me", late_token), 401);
}

TEST_CASE("rmm-api create-user: the first owner's credential and UserCreated, once") {
  ApiEnv env("api_auth_cli");
  // With the production streams: exit 0 means RMM_EVENTS acknowledged UserCreated. Over TLS, as
  // tools/rmm up runs it (and an exit after TLS once crashed in OpenSSL's exit handler).
  NatsServerFixture nats({.tls = true});
  TempDir dir("api-cli");
  {
    std::ofstream pw(dir / "password");
    pw << "a long enough secret\n";
    std::ofstream shorter(dir / "short");
    shorter << "short\n";
  }
  auto run = [&](const std::string& user, const std::string& file, const std::string& log) {
    Process p = Process::start(
        {std::string(RMM_BIN_DIR) + "/rmm-api",
         {"create-user", "--if-no-user", "--username", user, "--role", "owner", "--password-file",
          (dir / file).string(), "--pg-url", env.pg_url(), "--nats-url", nats.url(), "--nats-creds",
          nats.services_creds().string(), "--nats-ca", nats.tls_files().ca.string()},
         {},
         dir / log});
    return p.wait(30s);
  };
  CHECK(run("admin", "short", "short.log") == 2);
  REQUIRE(run("admin", "password", "first.log") == 0);
  CHECK(run("other", "password", "second.log") == 3);  // a user exists: nothing done

  // The new user's id is the one line of the output that is a uuid (the rest is log lines).
  std::ifstream out(dir / "first.log");
  std::string id, line;
  while (std::getline(out, line)) {
    if (UserId::parse(line)) id = line;
  }
  REQUIRE_MESSAGE(!id.empty(), "no user id printed");
  // The projector folds UserCreated into users; here the row is written by hand.
  env.exec("INSERT INTO users (id, username, role, created_by, created_at, updated_at) VALUES ('" +
           id + "', 'admin', 'owner', 'admin:test', now(), now())");
  std::string token = env.login("admin", "a long enough secret");
  auto me = parse_object(env.get("/api/v1/auth/me", token).body);
  CHECK(me.at("role").as_string() == "owner");
}
