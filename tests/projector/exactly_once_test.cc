// End to end through a real nats-server, PostgreSQL and the rmm-projector binary: events are
// applied exactly once across a SIGKILL, and poison messages are dead-lettered without stopping
// the projector.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <thread>

#include "common/event_codec.h"
#include "common/pg.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const AgentId kAgent = *AgentId::parse("0190a5c2-1111-7000-8000-000000000001");
const AgentId kImpostor = *AgentId::parse("0190a5c2-2222-7000-8000-000000000002");
constexpr std::uint64_t kLastAgentSeq = 10'000;

codec::AgentEventHeader header(const AgentId& agent, std::uint64_t seq) {
  return test::e2e_header(agent, seq);
}

}  // namespace

TEST_CASE("events are applied exactly once across a projector SIGKILL; poison is dead-lettered") {
  test::NatsServerFixture nats;
  auto& pg = test::PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("exactly_once"));
  test::TempDir dir("projector");

  Publisher pub(nats);
  // The agent's own subject (the server maps it to its partition), as an agent would publish.
  pub.async(codec::agent_event_subject(kAgent, schema::Payload::AgentStarted),
            codec::build_agent_started(header(kAgent, 1), {.hostname = "db-07",
                                                           .os_name = "Debian GNU/Linux",
                                                           .os_version = "12",
                                                           .agent_version = "0.1.0"}),
            codec::agent_msg_id(kAgent, AgentSeq{1}));
  int published_events = 1;
  int dead_expected = 0;
  auto heartbeat_bytes = [](std::uint64_t seq) {
    return codec::build_heartbeat(header(kAgent, seq), {.agent_version = "0.1.0", .uptime_s = seq});
  };
  for (std::uint64_t seq = 2; seq <= kLastAgentSeq; ++seq) {
    pub.async(codec::agent_event_subject(kAgent, schema::Payload::Heartbeat), heartbeat_bytes(seq),
              codec::agent_msg_id(kAgent, AgentSeq{seq}));
    ++published_events;
    if (seq == 5'000) {
      pub.complete();
      // Poison, published by the services user straight to a partition subject.
      std::vector<std::uint8_t> garbage(64, 0xAB);
      pub.sync(partition_subject(kAgent, "heartbeat"), garbage, "poison-1");
      auto spoof = codec::build_heartbeat(header(kImpostor, 1), {});
      pub.sync(partition_subject(kAgent, "heartbeat"), spoof, "poison-2");
      pub.sync(partition_subject(kAgent, "metrics"), heartbeat_bytes(5'000), "poison-3");
      dead_expected = 3;
      // A re-send inside the dedupe window is dropped by the server ...
      pub.sync(codec::agent_event_subject(kAgent, schema::Payload::Heartbeat), heartbeat_bytes(10),
               codec::agent_msg_id(kAgent, AgentSeq{10}));
      // ... one beyond it (simulated by a new msg id) is stored and must be skipped by the fold.
      for (std::uint64_t old = 100; old < 150; ++old) {
        pub.async(codec::agent_event_subject(kAgent, schema::Payload::Heartbeat),
                  heartbeat_bytes(old),
                  fmt::format("{}:resend", codec::agent_msg_id(kAgent, AgentSeq{old})));
      }
      // A control event: valid in the stream, no fold in the core projection.
      pub.sync("rmm.ctl.test.noop", {1, 2, 3}, "ctl-1");
    }
  }
  pub.complete();
  const std::uint64_t stream_last = pub.last_seq.load();
  // 10,000 events + 3 poison + 50 stale re-sends + 1 control event; the in-window re-send dropped.
  REQUIRE(stream_last == 10'000 + 3 + 50 + 1);

  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());

  auto first = start_projector(nats, pg_url, dir, 1);
  bool mid_way = wait_until(
      [&] {
        try {
          auto cp = checkpoint(**conn);
          return cp > 0 || !first.running();
        } catch (const std::exception&) {
          return false;  // tables not migrated yet
        }
      },
      30s, 1ms);
  REQUIRE(mid_way);
  REQUIRE(first.running());
  // Let it get somewhere, but not to the end.
  wait_until([&] { return checkpoint(**conn) >= 2'000 || !first.running(); }, 30s, 1ms);
  first.kill9();
  const auto killed_at = checkpoint(**conn);
  INFO("checkpoint at SIGKILL: " << killed_at);
  CHECK(killed_at > 0);
  CHECK(killed_at < static_cast<std::int64_t>(stream_last));

  auto second = start_projector(nats, pg_url, dir, 2);
  bool caught_up = wait_until(
      [&] { return checkpoint(**conn) == static_cast<std::int64_t>(stream_last); }, 60s, 20ms);
  REQUIRE_MESSAGE(caught_up, "checkpoint " << checkpoint(**conn) << " of " << stream_last);
  CHECK(second.running());
  CHECK(second.terminate(10s) == 0);  // SIGTERM: finish the batch, exit 0

  auto agent_sql = [&](std::string_view column) {
    return scalar(**conn,
                  fmt::format("SELECT {} FROM agents WHERE id = '{}'", column, kAgent.str()));
  };
  CHECK(agent_sql("last_seq") == static_cast<std::int64_t>(kLastAgentSeq));
  INFO("events_applied: " << agent_sql("events_applied").value_or(-1));
  CHECK(agent_sql("events_applied") == published_events);
  CHECK(agent_sql("(hostname = 'db-07')::int") == 1);
  CHECK(agent_sql("(os = 'Debian GNU/Linux 12')::int") == 1);
  CHECK(agent_sql("(extract(epoch from last_seen))::bigint") ==
        test::e2e_base() / 1'000'000'000 + static_cast<std::int64_t>(kLastAgentSeq));
  CHECK(scalar(**conn, "SELECT count(*) FROM agents") == 1);  // the impostor got no row
  CHECK(scalar(**conn, "SELECT count(*) FROM dead_letters") == dead_expected);
  CHECK(scalar(**conn, "SELECT count(*) FROM dead_letters WHERE reason LIKE '%does not match%'") ==
        2);
  CHECK(checkpoint(**conn) == static_cast<std::int64_t>(stream_last));
}

TEST_CASE("a batch left unacked by a crashed run is applied, not acked past") {
  test::NatsServerFixture nats;
  auto& pg = test::PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("pending"));
  test::TempDir dir("projector");
  constexpr std::uint64_t kEvents = 200;
  {
    Publisher pub(nats);
    for (std::uint64_t seq = 1; seq <= kEvents; ++seq) {
      pub.async(codec::agent_event_subject(kAgent, schema::Payload::Heartbeat),
                codec::build_heartbeat(header(kAgent, seq), {}),
                codec::agent_msg_id(kAgent, AgentSeq{seq}));
    }
    pub.complete();
    // A "previous run" takes the first 40 messages from the projector's durable and dies before
    // acking them: the server will hand out 41.. first and redeliver 1..40 only after AckWait.
    auto js = nats::JetStream::create(*pub.conn_, {});
    REQUIRE(js.has_value());
    auto sub = (*js)->pull_subscribe({.stream = "RMM_EVENTS",
                                      .durable = "projector",
                                      .filter_subject = "",
                                      .start_after = StreamSeq{0},
                                      .max_ack_pending = 2048,
                                      .ack_wait = std::chrono::seconds(60),
                                      .ack_all = true});
    REQUIRE_MESSAGE(sub.has_value(), sub.error().message);
    auto taken = (*sub)->fetch(40, 2s);
    REQUIRE(taken.has_value());
    REQUIRE(taken->size() == 40);
  }
  auto projector = start_projector(nats, pg_url, dir, 1);
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  bool done = wait_until(
      [&] {
        try {
          return checkpoint(**conn) == static_cast<std::int64_t>(kEvents);
        } catch (const std::exception&) {
          return false;  // not migrated yet
        }
      },
      30s, 20ms);
  REQUIRE(done);
  CHECK(projector.terminate(10s) == 0);
  CHECK(scalar(**conn, "SELECT events_applied FROM agents") == static_cast<std::int64_t>(kEvents));
  CHECK(scalar(**conn, "SELECT last_seq FROM agents") == static_cast<std::int64_t>(kEvents));
}

TEST_CASE("rmm-projector refuses to start when an applied migration changed") {
  auto& pg = test::PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("changed_migration"));
  test::TempDir dir("projector");
  std::filesystem::create_directories(dir / "migrations");
  for (const auto& e : std::filesystem::directory_iterator(RMM_MIGRATIONS_SOURCE_DIR)) {
    std::filesystem::copy(e.path(), dir / "migrations" / e.path().filename());
  }
  auto run = [&](int n) {
    // No NATS server: migrations come first, so the first run gets past them and then fails to
    // connect, while the second must stop at the changed file.
    auto p = test::Process::start(
        {.program = std::string(RMM_BIN_DIR) + "/rmm-projector",
         .args = {"--nats-url=nats://127.0.0.1:1", "--nats-creds=/nonexistent.creds",
                  "--pg-url=" + pg_url, "--migrations-dir=" + (dir / "migrations").string()},
         .env = {},
         .log_file = dir / fmt::format("run-{}.log", n)});
    auto status = p.wait(30s);
    REQUIRE(status.has_value());
    std::ifstream in(dir / fmt::format("run-{}.log", n));
    return std::pair{*status, std::string((std::istreambuf_iterator<char>(in)), {})};
  };
  auto [first_status, first_log] = run(1);
  CAPTURE(first_log);
  CHECK(first_log.find("migration.applied") != std::string::npos);
  std::ofstream(dir / "migrations" / "0001_initial.sql", std::ios::app) << "-- edited\n";
  auto [status, log] = run(2);
  CAPTURE(log);
  CHECK(status == 1);
  CHECK(log.find("0001_initial.sql was changed after it was applied") != std::string::npos);
}
