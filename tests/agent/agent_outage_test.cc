// The real rmm-agent through a broker outage: metrics every second while nats-server is down for
// 60 s, then every agent sequence lands in RMM_EVENTS exactly once and in order, and the agent is
// seen again (a heartbeat) ahead of its backlog.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <thread>

#include "agent/outbox/outbox.h"
#include "common/files.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::uint64_t highest_ordered(const std::vector<StoredEvent>& events) {
  std::uint64_t top = 0;
  for (const auto& e : events) {
    if (e.lane == schema::Lane::Ordered) top = std::max(top, e.seq);
  }
  return top;
}

}  // namespace

TEST_CASE("an agent at 1 s metrics loses nothing while the broker is down for 60 s") {
  NatsServerFixture nats;
  TempDir dir("outage");
  AgentId id = AgentId::generate(real_clock());
  fs::path state = dir / "agent";
  fs::create_directories(state);
  fs::copy_file(nats.mint_agent(id), state / "agent.creds");
  REQUIRE(files::write_atomic(state / "agent_id", id.str() + "\n").has_value());

  Process agent = Process::start({std::string(RMM_BIN_DIR) + "/rmm-agent",
                                  {"--state-dir", state.string(), "--nats-url", nats.url(),
                                   "--metrics-interval", "1s", "--heartbeat-interval", "1s"},
                                  {},
                                  dir / "agent.log"});
  // Connected and publishing before the outage.
  auto before = read_agent_events(nats, id, 3, 20s);
  REQUIRE(highest_ordered(before) >= 2);

  nats.stop();
  std::this_thread::sleep_for(60s);
  REQUIRE(agent.running());
  const auto restarted = std::chrono::steady_clock::now();
  nats.restart();

  // The backlog of ~60 samples drains; wait until the agent has caught up with itself.
  std::vector<StoredEvent> events;
  for (int i = 0; i < 30; ++i) {
    events = read_agent_events(nats, id, 60, 10s);
    if (highest_ordered(events) >= 62) break;
  }
  CHECK(agent.terminate() == 0);
  auto drained_after = std::chrono::steady_clock::now() - restarted;
  MESSAGE("caught up within ",
          std::chrono::duration_cast<std::chrono::seconds>(drained_after).count(),
          " s of the restart");

  // Whatever the agent had not sent when it stopped is still in its outbox, above what landed.
  auto box = agent::Outbox::open(state / "outbox", {}, real_clock());
  REQUIRE(box.has_value());
  const std::uint64_t assigned = (*box)->last_seq().value;
  events = read_agent_events(nats, id, 1, 10s);
  std::map<std::uint64_t, int> copies;
  std::vector<std::uint64_t> order;
  for (const auto& e : events) {
    if (e.lane != schema::Lane::Ordered) continue;
    copies[e.seq]++;
    order.push_back(e.seq);
  }
  const std::uint64_t landed = copies.empty() ? 0 : copies.rbegin()->first;
  CHECK(landed >= 62);  // at least a minute of samples survived the outage
  CHECK(landed + (*box)->depth() == assigned);
  std::uint64_t missing = 0, duplicated = 0;
  for (std::uint64_t s = 1; s <= landed; ++s) {
    if (!copies.contains(s))
      ++missing;
    else if (copies[s] > 1)
      ++duplicated;
  }
  CHECK_MESSAGE(missing == 0, missing << " agent sequences missing");
  CHECK_MESSAGE(duplicated == 0, duplicated << " agent sequences stored twice");
  CHECK(std::is_sorted(order.begin(), order.end()));

  // After the restart the agent's heartbeat reached the stream ahead of its whole backlog.
  std::uint64_t cut = 0;
  for (const auto& e : before) cut = std::max(cut, e.stream_seq);
  std::uint64_t first_heartbeat_after = 0, first_backlog = 0;
  for (const auto& e : events) {
    if (e.stream_seq <= cut) continue;
    if (e.lane == schema::Lane::Presence && first_heartbeat_after == 0) {
      first_heartbeat_after = e.stream_seq;
    }
    if (e.lane == schema::Lane::Ordered && first_backlog == 0) first_backlog = e.stream_seq;
  }
  CHECK(first_heartbeat_after != 0);
  CHECK(first_heartbeat_after < first_backlog);
}
