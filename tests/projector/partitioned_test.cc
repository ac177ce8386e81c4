// Issue 17 §2: the partitioned projection (docs/architecture.md). Two `rmm-projector
// --partitions=16` processes share the 17 units while agent and control events are published;
// one is killed with SIGKILL, the other takes its units over within the stated bound, every
// event is applied exactly once, and verify equals a clean replay. The single projection then
// refuses to go on from its old checkpoint.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <map>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <thread>

#include "common/pg.h"
#include "common/projection_position.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"
#include "tests/projector/steady_load.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

// The takeover bound this test holds the projector to: lock-poll-interval (200 ms here) plus a
// consumer's creation per unit, with room for a loaded CI machine.
constexpr auto kTakeoverBound = 10s;

// Units held per rmm-projector process: its sessions holding an exclusive owner lock.
std::map<std::string, std::int64_t> units_by_process(pqxx::connection& conn) {
  std::map<std::string, std::int64_t> out;
  try {
    pqxx::nontransaction tx(conn);
    for (const auto& r :
         tx.exec("SELECT a.application_name, count(*) FROM pg_locks l "
                 "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                 "AND l.granted AND l.objsubid = 2 AND l.mode = 'ExclusiveLock' "
                 "AND a.application_name LIKE 'rmm-projector pid %' GROUP BY 1")) {
      out[r[0].as<std::string>()] = r[1].as<std::int64_t>();
    }
  } catch (const std::exception&) {
  }
  return out;
}

}  // namespace

TEST_CASE("partitioned projectors share the units; one killed -9, the other takes them over") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("partitioned"));
  TempDir dir("projector-partitioned");
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  const std::vector<std::string> partitioned{"--partitions=16", "--lock-poll-interval=200ms",
                                             "--ticker=true", "--tick-interval=1s"};

  SteadyLoad load(nats, 40, 5);
  load.start();
  auto first = start_projector(nats, pg_url, dir, 1, partitioned);
  REQUIRE(wait_until([&] { return units_by_process(**conn).size() == 1 || !first.running(); }, 30s,
                     20ms));
  REQUIRE_MESSAGE(first.running(), read_file(dir / "projector-1.log"));
  CHECK(wait_until(
      [&] {
        auto u = units_by_process(**conn);
        return u.size() == 1 && u.begin()->second == 17;
      },
      15s, 20ms));
  REQUIRE_MESSAGE(wait_until([&] { return folded_through(**conn) > 0; }, 30s, 20ms),
                  read_file(dir / "projector-1.log"));

  // A second process: the first gives back what is over its share, the second takes it.
  auto second = start_projector(nats, pg_url, dir, 2, partitioned);
  const bool shared = wait_until(
      [&] {
        auto u = units_by_process(**conn);
        if (u.size() != 2) return false;
        std::int64_t total = 0, most = 0;
        for (const auto& [name, n] : u) total += n, most = std::max(most, n);
        return total == 17 && most == 9;
      },
      30s, 20ms);
  CHECK_MESSAGE(shared, read_file(dir / "projector-1.log") << read_file(dir / "projector-2.log"));
  std::this_thread::sleep_for(2s);  // both fold the load, units meeting at control events

  // SIGKILL: no unit is given back; PostgreSQL ends the sessions, the survivor takes their units.
  first.kill9();
  const auto killed_at = std::chrono::steady_clock::now();
  const bool taken = wait_until(
      [&] {
        auto u = units_by_process(**conn);
        return u.size() == 1 && u.begin()->second == 17;
      },
      kTakeoverBound, 20ms);
  const auto takeover = std::chrono::steady_clock::now() - killed_at;
  CHECK_MESSAGE(taken, read_file(dir / "projector-2.log"));
  MESSAGE("units taken over in "
          << std::chrono::duration_cast<std::chrono::milliseconds>(takeover).count() << " ms");
  std::this_thread::sleep_for(2s);

  load.stop();
  load.publisher().complete();
  REQUIRE(load.failures() == 0);
  const auto published_last = static_cast<std::int64_t>(load.publisher().last_seq.load());
  const bool drained =
      wait_until([&] { return folded_through(**conn) >= published_last; }, 60s, 20ms);
  if (!drained) {
    pqxx::nontransaction tx(**conn);
    for (const auto& r : tx.exec("SELECT projection, stream_seq, watermark FROM "
                                 "projection_checkpoints ORDER BY watermark")) {
      MESSAGE(r[0].as<std::string>() << " checkpoint " << r[1].as<std::int64_t>() << " watermark "
                                     << r[2].as<std::int64_t>());
    }
  }
  REQUIRE_MESSAGE(drained, "folded through " << folded_through(**conn) << " of " << published_last
                                             << "\n"
                                             << read_file(dir / "projector-2.log"));

  // Exactly once: every agent event, and every control event (one client each, besides the
  // default partner's none).
  const std::int64_t agent_events = check_applied_once(**conn, load);
  CHECK(agent_events > 0);
  CHECK(scalar(**conn, "SELECT count(*) FROM clients WHERE name LIKE 'load client %'") ==
        load.control_events());
  CHECK(load.control_events() > 0);
  CHECK(scalar(**conn, "SELECT count(*) FROM dead_letters") == 0);

  // The read models equal a clean serial replay of the stream.
  auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
  INFO(verify.out);
  CHECK(verify.status == 0);
  CHECK(verify.out.find(" 0 differ") != std::string::npos);
  CHECK(second.terminate(10s) == 0);

  // The single projection may not go on from the old checkpoint the units left behind.
  auto single = projector_command(nats, pg_url, dir, "single", {"--http-port=0"}, 30s);
  CHECK(single.status == 1);
  CHECK(single.out.find("--partitions=16") != std::string::npos);
}
