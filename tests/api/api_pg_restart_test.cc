// rmm-api across a PostgreSQL restart (issue 13 §4.3): an immediate shutdown kills every backend,
// so every connection the API's pools hold idle is dead once PostgreSQL is back. Requests after
// the restart must get live connections, never a 500 (or 503) for a stale one.
#include <doctest/doctest.h>
#include <poll.h>

#include <chrono>
#include <mutex>
#include <pqxx/pqxx>
#include <thread>
#include <vector>

#include "api/db/pg_pool.h"
#include "common/pg.h"
#include "tests/api/api_env.h"
#include "tests/fixtures/postgres.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

// libpqxx 6.4's connection_base::make_result() asks for the client encoding before it owns the
// PGresult, so a query that finds its connection lost leaks that result (a few KiB, once per
// lost connection). The PgPool::run test below loses a connection mid-query on purpose.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libpqxx-6.4.so\n";
}

namespace {

struct Outcome {
  std::string what;
  int status = 0;
  std::string body;
};

// `clients` threads at once, each signing in and then reading with its token: the agents list,
// /auth/me and the overview. Every answer, in no particular order.
std::vector<Outcome> sign_in_and_read(const ApiEnv& env, int clients) {
  std::mutex mutex;
  std::vector<Outcome> out;
  auto record = [&](std::string what, const HttpResponse& res) {
    std::lock_guard lock(mutex);
    out.push_back({std::move(what), res.status, res.body});
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      try {
        // More sign-ins at once than the Argon2id gate admits: the rest are told to retry (429,
        // "busy"), as a client would; the restart must still never answer 500 or 503.
        HttpResponse login;
        for (int attempt = 0; attempt < 50; ++attempt) {
          login = env.send("POST", "/api/v1/auth/login", "",
                           R"({"username":"alice","password":"correct horse battery"})");
          if (login.status != 429) break;
          std::this_thread::sleep_for(100ms);
        }
        record("login", login);
        if (login.status != 200) return;
        std::string token(parse_object(login.body).at("token").as_string());
        for (const char* target : {"/api/v1/agents", "/api/v1/auth/me", "/api/v1/overview"}) {
          record(target, env.get(target, token));
        }
      } catch (const std::exception& e) {
        record("transport", HttpResponse{.status = -1, .body = e.what()});
      }
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

void check_all_ok(const std::vector<Outcome>& outcomes, std::size_t expected) {
  CHECK(outcomes.size() == expected);
  for (const auto& o : outcomes) CHECK_MESSAGE(o.status == 200, o.what, ": ", o.body);
}

}  // namespace

TEST_CASE("after an immediate PostgreSQL restart, concurrent sign-ins and reads all succeed") {
  PostgresFixture pg;  // its own cluster: the shared one must not restart under other tests
  ApiEnv env(pg, "api_pg_restart", real_clock(), [](api::ApiConfig& c) { c.pg_pool_size = 4; });
  env.add_user("alice", "owner", {});
  constexpr int kClients = 6;  // more than either pool holds, so every pooled connection is used

  check_all_ok(sign_in_and_read(env, kClients), kClients * 4);

  pg.stop_immediate();
  pg.restart();

  // Twice: the first round may leave some idle connections untouched.
  check_all_ok(sign_in_and_read(env, kClients), kClients * 4);
  check_all_ok(sign_in_and_read(env, kClients), kClients * 4);
}

TEST_CASE("PgPool::run: work whose connection is lost is run once more on a new connection") {
  auto& pg = PostgresFixture::shared();
  const std::string url = pg.create_database(pg.unique_name("pg_pool_retry"));
  auto admin = pg::connect(url);
  REQUIRE(admin.has_value());
  // Ends the backend of `c` from another session and waits until it is gone, so the next query
  // on `c` finds the connection closed (what a PostgreSQL restart mid-request does).
  auto kill_backend = [&](pqxx::connection& c) {
    const int pid = c.backendpid();
    pqxx::nontransaction a(**admin);
    a.exec_params("SELECT pg_terminate_backend($1)", pid);
    for (int i = 0; i < 500; ++i) {
      if (a.exec_params("SELECT 1 FROM pg_stat_activity WHERE pid = $1", pid).empty()) return;
      std::this_thread::sleep_for(10ms);
    }
    FAIL("backend ", pid, " did not exit");
  };
  api::PgPool pool({.url = url, .size = 2});
  std::vector<int> pids;
  auto work = [&](pqxx::connection& c) {
    pids.push_back(c.backendpid());
    if (pids.size() == 1) kill_backend(c);
    pqxx::read_transaction tx(c);
    return tx.exec1("SELECT 42")[0].as<int>();
  };

  SUBCASE("kOnce: the second run, on a new connection, answers") {
    auto r = pool.run(api::PgPool::Retry::kOnce, work);
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(*r == 42);
    REQUIRE(pids.size() == 2);
    CHECK(pids[0] != pids[1]);
    CHECK(pool.stale_dropped() == 1);
  }
  SUBCASE("kNever: one run, and the database is unavailable") {
    auto r = pool.run(api::PgPool::Retry::kNever, work);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == Error::Code::kTimeout);
    CHECK(pids.size() == 1);
  }
  // Either way the pool goes on with live connections.
  pids.assign(2, 0);  // no more killing
  auto again = pool.run(api::PgPool::Retry::kNever, work);
  REQUIRE(again.has_value());
  CHECK(*again == 42);
}

TEST_CASE("PgPool::acquire: an idle connection whose backend ended is replaced, not lent") {
  auto& pg = PostgresFixture::shared();
  const std::string url = pg.create_database(pg.unique_name("pg_pool_idle"));
  api::PgPool pool({.url = url, .size = 1});
  int first_pid = 0;
  int socket = -1;
  {
    auto lease = pool.acquire();
    REQUIRE(lease.has_value());
    first_pid = lease->conn().backendpid();
    socket = lease->conn().sock();  // stays open while the connection sits idle in the pool
  }
  auto admin = pg::connect(url);
  REQUIRE(admin.has_value());
  pqxx::nontransaction(**admin).exec_params("SELECT pg_terminate_backend($1)", first_pid);
  // Until the backend's goodbye reached the idle connection (PostgreSQL drops a backend from
  // pg_stat_activity a moment before it closes its socket, so that view is not enough).
  pollfd p{socket, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);

  auto lease = pool.acquire();
  REQUIRE(lease.has_value());
  CHECK(lease->conn().backendpid() != first_pid);
  CHECK(pool.stale_dropped() == 1);
  pqxx::read_transaction tx(lease->conn());
  CHECK(tx.exec1("SELECT 7")[0].as<int>() == 7);
}
