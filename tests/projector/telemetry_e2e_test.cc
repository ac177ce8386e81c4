// End to end through a real nats-server, PostgreSQL and the rmm-projector binary: MetricsSample,
// Inventory and command lifecycle events published as agents would become read-model rows.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>

#include "common/command_codec.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "projector/db/sql_text.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

constexpr int kAgents = 5;
constexpr std::uint64_t kSamplesPerAgent = 120;
const CommandId kCommand = *CommandId::parse("0190a5c2-3333-7000-8000-0000000000c1");

AgentId agent_id(int i) {
  return *AgentId::parse(fmt::format("0190a5c2-4444-7000-8000-{:012d}", i + 1));
}

codec::MetricsInfo sample(std::uint64_t seq) {
  codec::MetricsInfo m{.cpu_percent = static_cast<float>(seq % 100),
                       .memory_total_bytes = 4'000,
                       .memory_used_bytes = 1'000};
  m.filesystems = std::vector<codec::FilesystemInfo>{{"/", "ext4", "/dev/vda1", seq, 1'000, 1, 10}};
  m.network = std::vector<codec::NetIoInfo>{{"lo", seq, 0, 0, 0, seq, 0, 0, 0},
                                            {"eth0", seq, 0, 0, 0, seq, 0, 0, 0}};
  m.top_processes = std::vector<codec::ProcessInfo>{{7, "sshd", "root", 0.1f, 1'000, "sshd -D"}};
  return m;
}

}  // namespace

TEST_CASE("metrics, inventory and command events published to JetStream become rows") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("telemetry_e2e"));
  TempDir dir("projector");

  Publisher pub(nats);
  for (int a = 0; a < kAgents; ++a) {
    const auto agent = agent_id(a);
    codec::InventoryInfo inv;
    inv.hostname = fmt::format("host-{}", a);
    inv.os_pretty = "Debian GNU/Linux 12 (bookworm)";
    inv.packages = {{"bash", "5.2", "amd64"}};
    pub.async(codec::agent_event_subject(agent, schema::Payload::Inventory),
              codec::build_inventory(e2e_header(agent, 1), inv),
              codec::agent_msg_id(agent, AgentSeq{1}));
    for (std::uint64_t seq = 2; seq < 2 + kSamplesPerAgent; ++seq) {
      if (a == 0 && seq == 50) continue;  // a gap for agent 0
      // One sample per simulated hour: 120 samples cover several day partitions.
      auto h = e2e_header(agent, seq);
      h.occurred_at += static_cast<UnixNanos>(seq) * 3'600'000'000'000;
      pub.async(codec::agent_event_subject(agent, schema::Payload::MetricsSample),
                codec::build_metrics(h, sample(seq)), codec::agent_msg_id(agent, AgentSeq{seq}));
    }
  }
  const auto a0 = agent_id(0);
  std::uint64_t seq = 2 + kSamplesPerAgent;
  pub.async(codec::agent_event_subject(a0, schema::Payload::CommandReceived),
            codec::build_command_received(e2e_header(a0, seq), {kCommand, "shell", "bob", 1}),
            codec::agent_msg_id(a0, AgentSeq{seq}));
  ++seq;
  std::vector<std::uint8_t> out{'o', 'k', '\n'};
  pub.async(
      codec::agent_event_subject(a0, schema::Payload::CommandOutput),
      codec::build_command_output(e2e_header(a0, seq), {.command = kCommand,
                                                        .stream = schema::OutputStream::Stdout,
                                                        .chunk_index = 0,
                                                        .offset = 0,
                                                        .data = out,
                                                        .truncated = false}),
      codec::agent_msg_id(a0, AgentSeq{seq}));
  ++seq;
  pub.async(
      codec::agent_event_subject(a0, schema::Payload::CommandCompleted),
      codec::build_command_completed(e2e_header(a0, seq), {.command = kCommand, .exit_code = 0}),
      codec::agent_msg_id(a0, AgentSeq{seq}));
  pub.complete();
  const auto stream_last = static_cast<std::int64_t>(pub.last_seq.load());
  REQUIRE(stream_last == kAgents * (1 + static_cast<std::int64_t>(kSamplesPerAgent)) - 1 + 3);

  // Small fetches over a backlog: the catch-up mode folds several fetches per transaction.
  auto projector =
      start_projector(nats, pg_url, dir, 1, {"--batch-size=64", "--catch-up-events=512"});
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  bool done = wait_until(
      [&] {
        try {
          return checkpoint(**conn) == stream_last || !projector.running();
        } catch (const std::exception&) {
          return false;  // not migrated yet
        }
      },
      60s, 20ms);
  REQUIRE(done);
  CHECK(projector.running());
  CHECK(projector.terminate(10s) == 0);
  CHECK(checkpoint(**conn) == stream_last);
  {
    // projector.stopping ... transactions=T fetches=F messages=M: at least one transaction took
    // more than one fetch, and none more than catch-up-events messages plus one fetch.
    std::ifstream in(dir.path() / "projector-1.log");
    std::string line, stopping;
    while (std::getline(in, line)) {
      if (line.find("msg=projector.stopping") != std::string::npos) stopping = line;
    }
    REQUIRE(!stopping.empty());
    auto field = [&](std::string_view key) {
      auto at = stopping.find(fmt::format(" {}=", key));
      REQUIRE(at != std::string::npos);
      return std::strtoll(stopping.c_str() + at + key.size() + 2, nullptr, 10);
    };
    CAPTURE(stopping);
    CHECK(field("messages") == stream_last);
    CHECK(field("transactions") < field("fetches"));
    CHECK(field("transactions") * (512 + 64) >= stream_last);
  }

  const std::int64_t samples = kAgents * static_cast<std::int64_t>(kSamplesPerAgent) - 1;
  CHECK(scalar(**conn, "SELECT count(*) FROM metrics") == samples);
  CHECK(scalar(**conn, "SELECT count(*) FROM metrics_filesystems") == samples);
  CHECK(scalar(**conn, "SELECT count(*) FROM metrics_net") == 2 * samples);
  // Hourly samples from 02:00 of the base day to 01:00 five days later: six day partitions.
  const auto day = [](int d) {
    auto text = projector::db::day_text(e2e_base() / 86'400'000'000'000 + d);
    std::erase(text, '-');
    return "metrics_p" + text;
  };
  CHECK(scalar(**conn, fmt::format("SELECT count(*) FROM pg_inherits WHERE inhparent = "
                                   "'metrics'::regclass AND inhrelid::regclass::text BETWEEN "
                                   "'{}' AND '{}'",
                                   day(-1), day(6))) == 6);
  CHECK(scalar(**conn, "SELECT sum(samples) FROM metrics_hourly") == samples);
  CHECK(scalar(**conn, "SELECT count(*) FROM agent_latest_metrics") == kAgents);
  CHECK(scalar(**conn, fmt::format("SELECT seq FROM agent_latest_metrics WHERE agent_id = '{}'",
                                   agent_id(1).str())) ==
        1 + static_cast<std::int64_t>(kSamplesPerAgent));
  CHECK(scalar(**conn, "SELECT count(*) FROM agent_processes") == kAgents);
  CHECK(scalar(**conn, "SELECT count(*) FROM agent_inventory WHERE package_count = 1") == kAgents);
  CHECK(scalar(**conn, "SELECT count(*) FROM agents WHERE os_pretty LIKE 'Debian%'") == kAgents);
  CHECK(scalar(**conn, fmt::format("SELECT from_seq * 1000 + to_seq FROM agent_sequence_gaps "
                                   "WHERE agent_id = '{}'",
                                   a0.str())) == 50'050);
  CHECK(scalar(**conn, "SELECT count(*) FROM agent_sequence_gaps") == 1);
  CHECK(scalar(**conn,
               "SELECT count(*) FROM commands WHERE status = 'completed' AND "
               "stdout = E'ok\\n' AND exit_code = 0") == 1);
  CHECK(scalar(**conn, "SELECT count(*) FROM dead_letters") == 0);
}
