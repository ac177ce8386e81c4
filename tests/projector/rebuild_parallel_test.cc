// Issue 17 §2: a rebuild folds with the partitioned projection's units in parallel
// (docs/architecture.md, "Parallel rebuild"). Against the real nats-server, PostgreSQL and the
// rmm-projector binary: tenancy, a policy, a command and an old agent's telemetry are published,
// folded by a live partitioned projector (with its ticker) and archived, then purged from
// RMM_EVENTS; a steady load of 40 agents with control events among them follows. A parallel
// rebuild under that load replays the archived prefix serially and the rest with the units, and
// swaps while the live projector keeps folding: every event is applied exactly once and verify
// finds the read models equal. On the quiet stream, a parallel rebuild's schema then equals a
// serial rebuild's table by table, checkpoints included, and no consumer of it is left. A
// single-projection projector folds on through a parallel rebuild's swap too.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>
#include <thread>

#include "common/command_codec.h"
#include "common/control_events.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "common/projection_position.h"
#include "projector/rebuild/verify.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/projector/e2e_helpers.h"
#include "tests/projector/steady_load.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const PartnerId kPartner = *PartnerId::parse(kDefaultPartnerId);
const ClientId kC1 = *ClientId::parse("0190a5c2-9999-7000-8000-0000000000c1");
const SiteId kS1 = *SiteId::parse("0190a5c2-9999-7000-8000-0000000000d1");
const AgentId kOld = *AgentId::parse("0190a5c2-9999-7000-8000-0000000000f1");
const AgentId kCommanded = *AgentId::parse("0190a5c2-9999-7000-8000-0000000000f2");
const CommandId kCmd = *CommandId::parse("0190a5c2-9999-7000-8000-000000000101");
const ControlSourceId kApi = *ControlSourceId::parse("0190a5c2-9999-7000-8000-000000000401");
const codec::Actor kBy{"user:alice", ""};

std::set<std::string> schemas_like(pqxx::connection& conn, const std::string& pattern) {
  std::set<std::string> out;
  pqxx::nontransaction tx(conn);
  for (const auto& r :
       tx.exec_params("SELECT nspname FROM pg_namespace WHERE nspname LIKE $1", pattern)) {
    out.insert(r[0].as<std::string>());
  }
  return out;
}

std::vector<std::string> checkpoints(pqxx::connection& conn, const std::string& schema) {
  std::vector<std::string> out;
  pqxx::nontransaction tx(conn);
  for (const auto& r : tx.exec("SELECT projection || ' ' || stream_seq FROM " +
                               tx.quote_name(schema) + ".projection_checkpoints ORDER BY 1")) {
    out.push_back(r[0].as<std::string>());
  }
  return out;
}

// The durable consumers of `stream` whose name starts with `prefix`.
std::vector<std::string> consumers(Publisher& pub, const char* stream, std::string_view prefix) {
  std::vector<std::string> out;
  jsConsumerNamesList* list = nullptr;
  if (js_ConsumerNames(&list, pub.js_->raw(), stream, nullptr, nullptr) != NATS_OK) return out;
  for (int i = 0; i < list->Count; ++i) {
    std::string name = list->List[i];
    if (name.starts_with(prefix)) out.push_back(std::move(name));
  }
  jsConsumerNamesList_Destroy(list);
  return out;
}

}  // namespace

TEST_CASE("a parallel rebuild equals a serial one and the live partitioned projector folds on") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("rebuild_parallel"));
  TempDir dir("rebuild-parallel");
  auto conn = pg::connect(pg_url, {.attempts = 50});
  REQUIRE(conn.has_value());
  StreamReader reader(nats);
  SteadyLoad load(nats, 40, 10, 10ms);
  Publisher& pub = load.publisher();
  ControlSource api{pub, kApi, e2e_base(), 1'000'000};

  // The prefix that will live only in the archive: tenancy, a cpu policy every later metrics
  // sample is judged by, an old agent's heartbeats.
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(h, {kC1, kPartner, "Acme", "user:alice"});
  });
  api.publish(schema::Payload::SiteCreated, [](const auto& h) {
    return codec::build_site_created(h, {kS1, kC1, "HQ", "user:alice"});
  });
  api.publish(schema::Payload::PolicySet, [](const auto& h) {
    return codec::build_policy_set(h, {{schema::PolicyScope::Global, {}},
                                       {{"alert.cpu.percent", "50"}, {"alert.cpu.minutes", "0"}},
                                       kBy});
  });
  for (std::uint64_t i = 1; i <= 5; ++i) {
    pub.sync(codec::agent_event_subject(kOld, schema::Payload::Heartbeat),
             codec::build_heartbeat(e2e_header(kOld, i), {.agent_version = "0.1.0"}),
             codec::agent_msg_id(kOld, AgentSeq{i}));
  }
  const std::vector<std::string> partitioned{"--partitions=16", "--lock-poll-interval=200ms",
                                             "--fetch-timeout=200ms", "--ticker=true",
                                             "--tick-interval=1s"};
  auto live = start_projector(nats, pg_url, dir, 1, partitioned);
  const auto prefix_end = static_cast<std::int64_t>(pub.last_seq.load());
  REQUIRE_MESSAGE(wait_until([&] { return folded_through(**conn) >= prefix_end; }, 60s, 20ms),
                  read_file(dir / "projector-1.log"));
  std::this_thread::sleep_for(2500ms);  // some ticks
  REQUIRE(
      wait_until([&] { return reader.state("RMM_CONTROL").messages >= api.seq + 3; }, 10s, 20ms));
  const std::uint64_t purge_below = reader.state("RMM_EVENTS").last_seq + 1;
  REQUIRE(wait_until(
      [&] { return folded_through(**conn) >= static_cast<std::int64_t>(purge_below - 1); }, 30s,
      20ms));

  // Aged out: everything so far is in the archive only (and folded into the live read models).
  jsOptions purge;
  jsOptions_Init(&purge);
  purge.Stream.Purge.Sequence = purge_below;
  REQUIRE(js_PurgeStream(pub.js_->raw(), "RMM_EVENTS", &purge, nullptr) == NATS_OK);
  REQUIRE(reader.state("RMM_EVENTS").first_seq == purge_below);

  // Crossing units: a command (control) and its receipt (the agent's partition), then the load.
  api.publish(schema::Payload::CommandIssued, [](const auto& h) {
    return codec::build_command_issued(h, {kCmd, kCommanded, "shell", "uptime", 10'000, 0, kBy});
  });
  pub.sync(
      codec::agent_event_subject(kCommanded, schema::Payload::CommandReceived),
      codec::build_command_received(e2e_header(kCommanded, 1), {kCmd, "shell", "user:alice", 1}),
      codec::agent_msg_id(kCommanded, AgentSeq{1}));
  load.start();
  std::this_thread::sleep_for(3s);

  SUBCASE("under load, the live projector folding through the swap") {
    auto rebuilt = projector_command(nats, pg_url, dir, "rebuild-parallel", {"rebuild"}, 180s);
    INFO(rebuilt.out);
    REQUIRE(rebuilt.status == 0);
    CHECK(rebuilt.out.find("rebuild.prefix_replayed") != std::string::npos);
    CHECK(rebuilt.out.find("rebuild.parallel_folded") != std::string::npos);
    CHECK(rebuilt.out.find("mode=parallel") != std::string::npos);
    CHECK(consumers(pub, "RMM_EVENTS", "rmm_rebuild_").empty());
    std::this_thread::sleep_for(2s);  // the live units fold on in the new schema
    // Over the policy's threshold whatever the load reached (its agents' cpu grows with their
    // sequence): a cpu alert the live units raise in the new schema.
    pub.sync(codec::agent_event_subject(kCommanded, schema::Payload::MetricsSample),
             codec::build_metrics(e2e_header(kCommanded, 2), {.cpu_percent = 99}),
             codec::agent_msg_id(kCommanded, AgentSeq{2}));
    load.stop();
    load.publisher().complete();
    REQUIRE(load.failures() == 0);
    const auto published_last = static_cast<std::int64_t>(pub.last_seq.load());
    REQUIRE_MESSAGE(wait_until([&] { return folded_through(**conn) >= published_last; }, 60s, 20ms),
                    "folded through " << folded_through(**conn) << " of " << published_last << "\n"
                                      << read_file(dir / "projector-1.log"));
    CHECK(check_applied_once(**conn, load) > 0);
    CHECK(scalar(**conn, "SELECT count(*) FROM clients WHERE name LIKE 'load client %'") ==
          load.control_events());
    CHECK(scalar(**conn, "SELECT count(*) FROM clients WHERE name = 'Acme'") == 1);
    CHECK(scalar(**conn, "SELECT count(*) FROM commands WHERE id = '" + kCmd.str() + "'") == 1);
    CHECK(scalar(**conn, "SELECT count(*) FROM alerts WHERE rule = 'cpu'").value_or(0) > 0);
    auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
    INFO(verify.out);
    CHECK(verify.status == 0);
    CHECK(verify.out.find(" 0 differ") != std::string::npos);
    CHECK(live.terminate(10s) == 0);
  }

  SUBCASE("on a quiet stream, table by table against a serial rebuild") {
    load.stop();
    load.publisher().complete();
    REQUIRE(load.failures() == 0);
    // No more ticks: the two rebuilds must see the same log.
    CHECK(live.terminate(10s) == 0);
    auto quiet = start_projector(nats, pg_url, dir, 2,
                                 {"--partitions=16", "--fetch-timeout=200ms", "--ticker=false"});
    const auto published_last = static_cast<std::int64_t>(reader.state("RMM_EVENTS").last_seq);
    REQUIRE(wait_until([&] { return folded_through(**conn) >= published_last; }, 60s, 20ms));

    auto serial = projector_command(nats, pg_url, dir, "rebuild-serial",
                                    {"rebuild", "--rebuild-parallel=off"}, 180s);
    INFO(serial.out);
    REQUIRE(serial.status == 0);
    CHECK(serial.out.find("mode=serial") != std::string::npos);
    const auto retired_before = schemas_like(**conn, "rmm_retired_%");
    auto parallel =
        projector_command(nats, pg_url, dir, "rebuild-parallel",
                          {"rebuild", "--rebuild-parallel=on", "--keep-old-schema"}, 180s);
    INFO(parallel.out);
    REQUIRE(parallel.status == 0);
    CHECK(parallel.out.find("rebuild.parallel_folded") != std::string::npos);
    auto retired = schemas_like(**conn, "rmm_retired_%");
    for (const auto& s : retired_before) retired.erase(s);
    REQUIRE(retired.size() == 1);
    const std::string serial_schema = *retired.begin();

    // Both are folds of the same (partial) log: every table is compared, telemetry included.
    auto other = pg::connect(pg_url);
    REQUIRE(other.has_value());
    pqxx::read_transaction serial_tx(**conn);
    pqxx::read_transaction parallel_tx(**other);
    auto report =
        projector::rebuild::compare_schemas(serial_tx, serial_schema, parallel_tx, "public", 20);
    REQUIRE(report.has_value());
    INFO(projector::rebuild::format_report(*report));
    CHECK(report->tables.size() > 20);
    CHECK(report->not_comparable.empty());
    CHECK(report->equal());
    serial_tx.commit();
    parallel_tx.commit();
    CHECK(checkpoints(**conn, serial_schema) == checkpoints(**conn, "public"));
    CHECK(consumers(pub, "RMM_EVENTS", "rmm_rebuild_").empty());
    CHECK(quiet.terminate(10s) == 0);
  }
}

TEST_CASE("a parallel rebuild under a single-projection projector: it folds on through the swap") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("rebuild_parallel_single"));
  TempDir dir("rebuild-parallel-single");
  auto conn = pg::connect(pg_url, {.attempts = 50});
  REQUIRE(conn.has_value());
  SteadyLoad load(nats, 20, 10, 10ms);
  load.start();
  auto live = start_projector(nats, pg_url, dir, 1, {"--http-port=0"});
  REQUIRE_MESSAGE(wait_until([&] { return folded_through(**conn) > 0; }, 60s, 20ms),
                  read_file(dir / "projector-1.log"));
  std::this_thread::sleep_for(2s);

  auto rebuilt = projector_command(nats, pg_url, dir, "rebuild-parallel",
                                   {"rebuild", "--rebuild-parallel=on"}, 180s);
  INFO(rebuilt.out);
  REQUIRE(rebuilt.status == 0);
  CHECK(rebuilt.out.find("rebuild.parallel_folded") != std::string::npos);
  CHECK(scalar(**conn,
               "SELECT count(*) FROM projection_checkpoints WHERE projection LIKE "
               "'core/%'") == 0);
  std::this_thread::sleep_for(2s);
  load.stop();
  load.publisher().complete();
  REQUIRE(load.failures() == 0);
  const auto published_last = static_cast<std::int64_t>(load.publisher().last_seq.load());
  REQUIRE_MESSAGE(wait_until([&] { return checkpoint(**conn) >= published_last; }, 60s, 20ms),
                  read_file(dir / "projector-1.log"));
  CHECK(check_applied_once(**conn, load) > 0);
  CHECK(scalar(**conn, "SELECT count(*) FROM clients WHERE name LIKE 'load client %'") ==
        load.control_events());
  auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
  INFO(verify.out);
  CHECK(verify.status == 0);
  CHECK(verify.out.find(" 0 differ") != std::string::npos);
  CHECK(live.terminate(10s) == 0);
}
