// rmm-sim against a real nats-server and the real rmm-projector: every simulated agent connects
// with its own credential, its events are accepted by JetStream and folded into the read models,
// and a command published to one agent is answered.
#include <doctest/doctest.h>

#include <fstream>
#include <pqxx/nontransaction>
#include <thread>

#include "common/command_codec.h"
#include "common/command_signing.h"
#include "common/pg.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/tools/replay_test_util.h"
#include "tools/sim/fleet.h"

using namespace rmm;
using namespace std::chrono_literals;

namespace {

std::int64_t scalar(pqxx::connection& conn, const std::string& sql) {
  try {
    pqxx::nontransaction tx(conn);
    auto r = tx.exec(sql);
    return r.empty() || r[0][0].is_null() ? -1 : r[0][0].as<std::int64_t>();
  } catch (const std::exception&) {
    return -1;  // tables not migrated yet
  }
}

}  // namespace

TEST_CASE("simulated agents are accepted, projected, and answer commands") {
  test::NatsServerFixture nats;
  auto& pg = test::PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("sim"));
  test::TempDir dir("sim");
  auto projector = test::Process::start(
      {.program = std::string(RMM_BIN_DIR) + "/rmm-projector",
       .args = {"--nats-url=" + nats.url(), "--nats-creds=" + nats.services_creds().string(),
                "--pg-url=" + pg_url, "--batch-size=64", "--fetch-timeout=200ms", "--http-port=0"},
       .env = {},
       .log_file = dir / "projector.log"});

  constexpr int kAgents = 20;
  sim::SimOptions o;
  o.servers = {{.host = "127.0.0.1", .port = static_cast<std::uint16_t>(nats.port())}};
  o.home = nats.home();
  o.agents = kAgents;
  o.duration = 8s;
  o.connect_rate = 200;
  o.stats_every = 0ms;
  o.ids_file = dir / "ids.txt";
  o.config.heartbeat_interval = 1s;
  o.config.metrics_interval = 1s;
  o.config.offline_chance = 0.1;
  o.config.offline_for = 1s;
  Result<sim::SimReport> report = fail("not run");
  std::thread fleet([&] { report = sim::run_fleet(o); });

  // A command for the first agent once the fleet is up.
  std::this_thread::sleep_for(2s);
  std::ifstream ids(o.ids_file);
  std::string first_id;
  std::getline(ids, first_id);
  REQUIRE_FALSE(first_id.empty());
  auto agent = AgentId::parse(first_id);
  REQUIRE(agent.has_value());
  test::Publisher pub(nats.url(), nats.services_creds().string());
  codec::CommandInfo cmd;
  cmd.id = CommandId::generate(RealClock());
  cmd.agent = *agent;
  cmd.issuer = "sim-test";
  cmd.action = codec::ShellSpec{"true", ""};
  auto sent = pub.js->publish(codec::agent_command_subject(*agent),
                              codec::build_signed_command(cmd, nats.command_signer().key),
                              cmd.id.str(), 5s);
  REQUIRE(sent.has_value());
  fleet.join();
  REQUIRE(report.has_value());
  const auto& s = report->stats;
  CHECK(s.connects >= kAgents);
  CHECK(s.connect_failures == 0);
  CHECK(s.server_errors == 0);
  CHECK(s.ack_errors == 0);
  CHECK(s.published > kAgents * 8);
  // Only what was in flight when the fleet stopped may lack its ack.
  CHECK(s.acked + kAgents >= s.published);
  CAPTURE(s.last_error);
  CHECK(s.commands == 1);
  CHECK(s.offline_periods > 0);

  // Folded by the real projector: every agent has a row with its events applied.
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  bool projected = false;
  for (int i = 0; i < 100 && !projected; ++i) {
    projected = scalar(**conn, "SELECT count(*) FROM agents WHERE events_applied > 0") == kAgents &&
                scalar(**conn, "SELECT count(DISTINCT agent_id) FROM metrics") == kAgents;
    if (!projected) std::this_thread::sleep_for(200ms);
  }
  CHECK(projected);
  CHECK(scalar(**conn, "SELECT count(*) FROM dead_letters") == 0);
  CHECK(scalar(**conn, "SELECT count(*) FROM agent_sequence_gaps") == 0);

  // The answer is in the stream: CommandReceived + CommandCompleted of that agent.
  replay::ExportOptions eo;
  eo.nats_url = nats.url();
  eo.nats_creds = nats.services_creds().string();
  eo.selection.agents = {*agent};
  eo.selection.agents_selected = true;
  eo.selection.types = {"cmd_completed"};
  auto lines = test::lines_of(test::export_to_string(eo));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(cmd.id.str()) != std::string::npos);
  projector.terminate();
}

TEST_CASE("simulated agents given several servers move past one that is down") {
  test::NatsServerFixture nats;
  const auto live = static_cast<std::uint16_t>(nats.port());
  const auto dead = static_cast<std::uint16_t>(test::free_tcp_port());
  constexpr int kAgents = 10;
  sim::SimOptions o;
  // Half the agents start on the dead address, as agents whose cluster node died do.
  o.servers = {{.host = "127.0.0.1", .port = dead}, {.host = "127.0.0.1", .port = live}};
  o.home = nats.home();
  o.agents = kAgents;
  o.duration = 6s;
  o.connect_rate = 100;
  o.stats_every = 0ms;
  o.config.reconnect_wait = 200ms;
  o.config.heartbeat_interval = 1s;
  o.config.metrics_interval = 1s;
  auto report = sim::run_fleet(o);
  REQUIRE(report.has_value());
  const auto& s = report->stats;
  CAPTURE(s.last_error);
  CHECK(s.connect_failures >= kAgents / 2);
  CHECK(report->ramp_seconds > 0);  // every agent was connected at once
  CHECK(s.ack_errors == 0);
  CHECK(s.acked > kAgents);
}
