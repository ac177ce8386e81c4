// The Windows agent through a broker outage: what it collects while nats-server is stopped lands
// exactly once after the restart, in RMM_EVENTS and in the read models.
#include <doctest/doctest.h>

#include <map>
#include <pqxx/nontransaction>
#include <thread>

#include "tests/fixtures/stream_reader.h"
#include "tests/windows/e2e/windows_agent.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;

std::uint64_t highest_ordered(const std::vector<StoredEvent>& events) {
  std::uint64_t top = 0;
  for (const auto& e : events) {
    if (e.lane == schema::Lane::Ordered) top = std::max(top, e.seq);
  }
  return top;
}

}  // namespace

TEST_CASE("windows agent: metrics collected while nats-server is down arrive exactly once") {
  auto& agent = windows_agent();
  auto& nats = agent.stack().nats();
  INFO(agent.log());
  const std::uint64_t before = highest_ordered(read_agent_events(nats, agent.id(), 3, 30s));
  REQUIRE(before >= 2);

  nats.stop();
  // Metrics every second: about ten samples wait in the agent's outbox.
  std::this_thread::sleep_for(10s);
  REQUIRE(agent.running());
  nats.restart();

  std::vector<StoredEvent> events;
  const bool caught_up = eventually(
      [&] {
        try {
          events = read_agent_events(nats, agent.id(), 1, 10s);
        } catch (const std::exception&) {
          return false;  // JetStream still starting after the restart
        }
        return highest_ordered(events) >= before + 10;
      },
      90s);
  REQUIRE_MESSAGE(caught_up, "highest agent sequence ", highest_ordered(events), ", before ",
                  before);

  std::map<std::uint64_t, int> copies;
  std::uint64_t metrics_events = 0;
  for (const auto& e : events) {
    if (e.lane != schema::Lane::Ordered) continue;
    ++copies[e.seq];
    if (e.type == schema::Payload::MetricsSample) ++metrics_events;
  }
  const std::uint64_t landed = copies.rbegin()->first;
  std::uint64_t missing = 0, duplicated = 0;
  for (std::uint64_t s = 1; s <= landed; ++s) {
    if (!copies.contains(s)) {
      ++missing;
    } else if (copies[s] > 1) {
      ++duplicated;
    }
  }
  CHECK_MESSAGE(missing == 0, missing, " agent sequences missing of ", landed);
  CHECK_MESSAGE(duplicated == 0, duplicated, " agent sequences stored twice");

  // The read model: one row per sample, each sequence once, the outage's samples among them.
  std::uint64_t rows = 0, distinct = 0;
  const bool projected = eventually(
      [&] {
        pqxx::nontransaction tx(agent.stack().db());
        auto r = tx.exec_params1(
            "SELECT count(*), count(DISTINCT seq) FROM metrics WHERE agent_id = $1::uuid AND seq "
            "<= $2",
            agent.id().str(), static_cast<std::int64_t>(landed));
        rows = r[0].as<std::uint64_t>();
        distinct = r[1].as<std::uint64_t>();
        return rows >= metrics_events;
      },
      60s);
  CHECK_MESSAGE(projected, rows, " metrics rows, ", metrics_events, " samples stored");
  CHECK(rows == metrics_events);
  CHECK(distinct == rows);
  CHECK(metrics_events >= 10);
}

}  // namespace rmm::test
