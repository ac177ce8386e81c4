// apply_config: the settings the server may change, checked against the agent's declarations,
// applied live by the real rmm-agent and kept across its restart.
#include <doctest/doctest.h>

#include <filesystem>

#include "agent/live_settings.h"
#include "common/files.h"
#include "common/nats_connection.h"
#include "tests/agent/commands_test_util.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST_CASE("live settings change all together or not at all") {
  agent::LiveSettings live({});
  REQUIRE(live.apply({{"metrics-interval", "5s"}, {"disabled-collectors", "temperatures"}}));
  CHECK(live.get().metrics_interval == 5s);
  CHECK(live.get().disabled_collectors.contains("temperatures"));
  const auto generation = live.generation();

  auto refused = live.apply({{"heartbeat-interval", "10s"}, {"nats-url", "nats://evil:4222"}});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("nats-url") != std::string::npos);
  CHECK(live.get().heartbeat_interval == 30s);  // the valid half was not applied either

  CHECK_FALSE(live.apply({{"metrics-interval", "10ms"}}).has_value());  // below the bound
  CHECK_FALSE(live.apply({{"metrics-interval", "soon"}}).has_value());
  CHECK_FALSE(live.apply({{"disabled-collectors", "no_such_collector"}}).has_value());
  CHECK(live.generation() == generation);
}

namespace {

std::size_t metrics_count(const test::NatsServerFixture& nats, const AgentId& id) {
  std::size_t n = 0;
  for (const auto& e : test::read_agent_events(nats, id, 1, 5s)) {
    if (e.type == schema::Payload::MetricsSample) ++n;
  }
  return n;
}

// Waits up to `limit` for at least `want` more metrics samples than `base`.
bool metrics_grow(const test::NatsServerFixture& nats, const AgentId& id, std::size_t base,
                  std::size_t want, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (metrics_count(nats, id) >= base + want) return true;
    std::this_thread::sleep_for(500ms);
  }
  return false;
}

}  // namespace

TEST_CASE("apply_config changes the metrics interval live and the change survives a restart") {
  test::NatsServerFixture nats;
  test::TempDir dir("live-config");
  AgentId id = AgentId::generate(real_clock());
  fs::path state = dir / "agent";
  fs::create_directories(state);
  fs::copy_file(nats.mint_agent(id), state / "agent.creds");
  REQUIRE(files::write_atomic(state / "agent_id", id.str() + "\n").has_value());
  nats.write_agent_command_keys(state);
  test::ProcessOptions agent_options{std::string(RMM_BIN_DIR) + "/rmm-agent",
                                     {"--state-dir", state.string(), "--nats-url", nats.url(),
                                      "--metrics-interval", "1h", "--heartbeat-interval", "1s"},
                                     {},
                                     dir / "agent.log"};
  auto agent = test::Process::start(agent_options);

  // One sample at start, then none for an hour.
  REQUIRE(metrics_grow(nats, id, 0, 1, 20s));
  const std::size_t before = metrics_count(nats, id);

  nats::ConnectOptions o;
  o.url = nats.url();
  o.creds_file = nats.services_creds().string();
  auto services = nats::Connection::connect(o);
  REQUIRE(services.has_value());
  auto cmd = test::action_command(codec::ApplyConfigSpec{{{"metrics-interval", "1s"}}});
  REQUIRE(
      test::publish_command((*services)->raw(), id, cmd, nats.command_signer().key).has_value());
  CHECK_MESSAGE(metrics_grow(nats, id, before, 3, 20s), "no faster metrics; log in ", dir.path());

  CHECK(agent.terminate() == 0);
  auto applied = files::read_all(state / "applied_config");
  REQUIRE(applied.has_value());
  CHECK(applied->find("metrics-interval") != std::string::npos);

  // Restarted with the same flags (--metrics-interval 1h), the applied 1 s still holds.
  agent = test::Process::start(agent_options);
  const std::size_t after_restart = metrics_count(nats, id);
  CHECK(metrics_grow(nats, id, after_restart, 3, 20s));
  CHECK(agent.terminate() == 0);
}
