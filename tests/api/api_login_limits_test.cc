// What strangers can do to sign-in, against a real PostgreSQL: failed sign-ins lock a username
// only for the address they came from (never the owner at its own), one address has a bounded
// number of attempts over every username, and a flood of failed sign-ins from many addresses
// does not slow other requests (the Argon2id gate), with the latency measured.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "api/auth/source_limiter.h"
#include "common/pg.h"
#include "tests/api/api_env.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

// 2026-01-02T03:05:00Z
constexpr UnixNanos kStart = 1'767'323'100'000'000'000;
const std::string kPassword = "correct horse battery";

HttpResponse login_from(const ApiEnv& env, const std::string& address, const std::string& user,
                        const std::string& password) {
  std::map<std::string, std::string> headers{{"content-type", "application/json"}};
  if (!address.empty()) headers["x-forwarded-for"] = address;
  return http_request(
      env.port(), "POST", "/api/v1/auth/login",
      boost::json::serialize(boost::json::object{{"username", user}, {"password", password}}),
      headers);
}

// rmm-api behind a reverse proxy on 127.0.0.1, so a test can speak from many addresses.
void behind_proxy(api::ApiConfig& c) {
  c.trusted_proxies = "127.0.0.1";
}

}  // namespace

TEST_CASE("lockout: failures from one address lock the owner there, never elsewhere") {
  FakeClock clock(kStart);
  ApiEnv env("api_login_lock", clock, behind_proxy);
  env.add_user("owner", "owner", {{"global", kNilUuid}});
  const std::string stranger = "203.0.113.5";
  const std::string home = "198.51.100.7";
  for (int i = 0; i < 5; ++i) check_problem(login_from(env, stranger, "owner", "guess"), 401);
  // Locked for the stranger's address, even with the right password...
  auto locked = login_from(env, stranger, "owner", kPassword);
  check_problem(locked, 429);
  CHECK(std::stoi(locked.headers.at("retry-after")) > 800);
  // ...but the owner, from its own address, signs in (before: 429 for 15 minutes).
  CHECK(login_from(env, home, "owner", kPassword).status == 200);
  // A proxy's chain: the address the trusted proxy saw counts, not what the client claims.
  check_problem(login_from(env, home + ", " + stranger, "owner", kPassword), 429);
  CHECK(login_from(env, stranger + ", " + home, "owner", kPassword).status == 200);
  // IPv6 addresses count by their /64.
  for (int i = 0; i < 5; ++i) {
    check_problem(login_from(env, fmt::format("2001:db8:1:2::{}", i + 1), "owner", "guess"), 401);
  }
  check_problem(login_from(env, "2001:db8:1:2:ffff::9", "owner", kPassword), 429);
  CHECK(login_from(env, "2001:db8:1:3::1", "owner", kPassword).status == 200);
  clock.advance(16min);
  CHECK(login_from(env, stranger, "owner", kPassword).status == 200);
}

TEST_CASE("lockout: without trusted proxies, X-Forwarded-For is not believed") {
  FakeClock clock(kStart);
  ApiEnv env("api_login_xff", clock);
  env.add_user("carl", "technician", {});
  for (int i = 0; i < 5; ++i) {
    check_problem(login_from(env, fmt::format("192.0.2.{}", i), "carl", "guess"), 401);
  }
  // All five came from 127.0.0.1 whatever the header said: locked there.
  check_problem(login_from(env, "192.0.2.200", "carl", kPassword), 429);
}

TEST_CASE("per-address limit: one address has 10 attempts over every username; success is free") {
  FakeClock clock(kStart);
  ApiEnv env("api_login_source", clock, behind_proxy);
  env.add_user("nina", "read_only", {});
  // Successes give their attempt back: 12 sign-ins from one address in a row are fine.
  for (int i = 0; i < 12; ++i) {
    CHECK(login_from(env, "198.51.100.20", "nina", kPassword).status == 200);
    clock.advance(1s);  // the process-wide bucket (20 at once, 5/s) refills
  }
  // Failures with distinct names: the 11th from the same address is refused before any work.
  for (int i = 0; i < 10; ++i) {
    check_problem(login_from(env, "203.0.113.9", fmt::format("spray{}", i), "guess"), 401);
  }
  auto refused = login_from(env, "203.0.113.9", "nina", kPassword);
  check_problem(refused, 429);
  CHECK(std::stoi(refused.headers.at("retry-after")) >= 1);
  // Control characters or not, a malformed name counts as an attempt too.
  check_problem(login_from(env, "203.0.113.9", "bad name", "guess"), 429);
  // Other addresses are not affected; the address regains one every 6 s.
  CHECK(login_from(env, "198.51.100.21", "nina", kPassword).status == 200);
  clock.advance(7s);
  CHECK(login_from(env, "203.0.113.9", "nina", kPassword).status == 200);
}

TEST_CASE(
    "per-address limit: one bucket in PostgreSQL for every rmm-api; the table stays bounded") {
  FakeClock clock(kStart);
  ApiEnv env("api_source_buckets", clock);
  // Two limiters on one database, as two rmm-api processes have: each with its own pool.
  api::PgPool pool_a({.url = env.pg_url(), .size = 1, .read_only = false});
  api::PgPool pool_b({.url = env.pg_url(), .size = 1, .read_only = false});
  const api::SourceLimiter::Options options{
      .burst = 4, .per_minute = 2, .max_sources = 3, .cleanup_every = 0ms};
  api::SourceLimiter a(pool_a, clock, "sign_in", options);
  api::SourceLimiter b(pool_b, clock, "sign_in", options);
  api::SourceLimiter other_kind(pool_b, clock, "enroll_code", options);
  std::chrono::seconds retry{0};
  auto take = [&](api::SourceLimiter& l, const std::string& source) {
    auto r = l.take(source, retry);
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    return *r;
  };
  // Four attempts in all, whichever API takes them; then both refuse.
  CHECK(take(a, "203.0.113.1"));
  CHECK(take(b, "203.0.113.1"));
  CHECK(take(a, "203.0.113.1"));
  CHECK(take(b, "203.0.113.1"));
  CHECK_FALSE(take(a, "203.0.113.1"));
  CHECK(retry == 30s);  // 2 a minute
  CHECK_FALSE(take(b, "203.0.113.1"));
  // A give-back on one API is an attempt on the other; another kind has its own bucket.
  a.give_back("203.0.113.1");
  CHECK(take(b, "203.0.113.1"));
  CHECK(take(other_kind, "203.0.113.1"));
  clock.advance(31s);
  CHECK(take(a, "203.0.113.1"));
  CHECK_FALSE(take(b, "203.0.113.1"));

  // Concurrent takes from both APIs: exactly the burst is granted (one statement per take, so no
  // two read the same count).
  {
    api::PgPool wide_a({.url = env.pg_url(), .size = 4, .read_only = false});
    api::PgPool wide_b({.url = env.pg_url(), .size = 4, .read_only = false});
    const api::SourceLimiter::Options burst10{.burst = 10, .per_minute = 1, .cleanup_every = 1h};
    api::SourceLimiter la(wide_a, clock, "sign_in", burst10);
    api::SourceLimiter lb(wide_b, clock, "sign_in", burst10);
    std::atomic<int> granted{0}, errors{0};
    std::vector<std::thread> takers;
    for (int t = 0; t < 8; ++t) {
      takers.emplace_back([&, t] {
        std::chrono::seconds r{0};
        for (int i = 0; i < 5; ++i) {
          auto got = (t % 2 == 0 ? la : lb).take("192.0.2.99", r);
          if (!got) ++errors;
          if (got && *got) ++granted;
        }
      });
    }
    for (auto& t : takers) t.join();
    CHECK(errors == 0);
    CHECK(granted == 10);
  }

  auto rows = [&](const std::string& kind) {
    auto conn = pg::connect(env.pg_url());
    REQUIRE(conn.has_value());
    pqxx::nontransaction tx(**conn);
    return tx.exec_params1("SELECT count(*) FROM auth.source_buckets WHERE kind = $1", kind)[0]
        .as<int>();
  };
  // Past max_sources, those idle longest go (a fresh bucket for them, as for a new address).
  for (int i = 2; i <= 6; ++i) {
    clock.advance(1s);
    CHECK(take(a, fmt::format("203.0.113.{}", i)));
  }
  CHECK(rows("sign_in") == 3);
  CHECK(rows("enroll_code") == 1);
  // A bucket idle long enough to be full again (burst / per_minute = 2 min) is deleted.
  clock.advance(3min);
  CHECK(take(a, "198.51.100.1"));
  CHECK(rows("sign_in") == 1);
}

TEST_CASE("sign-in flood: failed sign-ins from many addresses do not slow other requests") {
  // Real time: Argon2id takes real CPU. 32 clients send failed sign-ins with distinct names from
  // distinct addresses for 4 s (no per-address limit applies) while one client reads /auth/me.
  ApiEnv env("api_login_flood", real_clock(), behind_proxy);
  env.add_user("reader", "read_only", {});
  const std::string token = env.login("reader");
  constexpr int kFlooders = 32;
  constexpr auto kFlood = 4s;
  // The reads' latency on this machine as it is now, without the flood: the bound below is
  // relative to it, so a machine loaded by other work does not fail the test.
  auto read_for = [&](std::chrono::milliseconds how_long) {
    std::vector<double> out;
    const auto end = std::chrono::steady_clock::now() + how_long;
    while (std::chrono::steady_clock::now() < end) {
      auto t0 = std::chrono::steady_clock::now();
      auto r = env.get("/api/v1/auth/me", token);
      out.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      CHECK(r.status == 200);
      std::this_thread::sleep_for(20ms);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  const std::vector<double> calm = read_for(1500ms);
  REQUIRE_FALSE(calm.empty());
  const double calm_p99 = calm[calm.size() * 99 / 100];
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0}, refused{0}, failed{0};
  std::vector<std::thread> flood;
  for (int t = 0; t < kFlooders; ++t) {
    flood.emplace_back([&, t] {
      for (int i = 0; !stop && i < 100'000; ++i) {
        try {
          auto r = login_from(env, fmt::format("10.{}.{}.{}", t, i / 250, i % 250 + 1),
                              fmt::format("flood{}x{}", t, i), "wrong password");
          ++sent;
          if (r.status == 429) ++refused;
          if (r.status == 401) ++failed;
        } catch (const std::exception&) {
          std::this_thread::sleep_for(10ms);
        }
      }
    });
  }
  const std::vector<double> ms = read_for(kFlood);
  stop = true;
  for (auto& t : flood) t.join();
  REQUIRE_FALSE(ms.empty());
  const double p50 = ms[ms.size() / 2];
  const double p99 = ms[ms.size() * 99 / 100];
  const double max = ms.back();
  MESSAGE(
      fmt::format("flood: {} sign-ins sent ({} answered 401, {} 429); GET /auth/me x{}: "
                  "p50 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms (without the flood: p99 {:.1f} ms)",
                  sent.load(), failed.load(), refused.load(), ms.size(), p50, p99, max, calm_p99));
  CHECK(failed > 0);  // the flood did make Argon2id work
  CHECK(ms.size() >= 20);
  // The bound (docs/benchmarks.md): before the gate, the first burst held every worker and the
  // reads waited over a second. 250 ms p99 on an idle machine; one loaded by other work (CI
  // runs under other builds) slows every read, so the bound grows with the calm reads' p99.
  const double bound = 250 + 4 * calm_p99;
  CHECK_MESSAGE(p99 < bound, "bound " << bound << " ms");
  CHECK(max < 2 * bound);
}
