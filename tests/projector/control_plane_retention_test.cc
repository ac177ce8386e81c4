// Issue 13 §2: the control plane outlives telemetry retention. Against the real nats-server,
// PostgreSQL and the rmm-projector binary: tenancy, users, policies, enrollments, commands and
// alert actions are published with telemetry, the live projector folds them, RMM_EVENTS is then
// given a one-second max_age until it has aged everything out, and more events follow. A rebuild
// reads the aged-out control events from RMM_CONTROL and yields the same tenancy, users,
// policies, agent identities, enrollment codes and keys, audit log and checkpoint as the live
// read models; verify compares that control plane and calls the telemetry tables not comparable;
// a snapshot before the stream's start is refused. Without the archive (deleted, or recreated
// after the events aged out) the rebuild fails loudly and leaves the live read models alone.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <thread>

#include "admin/streams.h"
#include "common/command_codec.h"
#include "common/control_events.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/pg.h"
#include "common/time_text.h"
#include "projector/rebuild/verify.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

const PartnerId kPartner = *PartnerId::parse(kDefaultPartnerId);
const ClientId kC1 = *ClientId::parse("0190a5c2-7777-7000-8000-0000000000c1");
const ClientId kC2 = *ClientId::parse("0190a5c2-7777-7000-8000-0000000000c2");
const SiteId kS1 = *SiteId::parse("0190a5c2-7777-7000-8000-0000000000d1");
const SiteId kS2 = *SiteId::parse("0190a5c2-7777-7000-8000-0000000000d2");
const EnrollmentCodeId kCode1 = *EnrollmentCodeId::parse("0190a5c2-7777-7000-8000-000000000201");
const EnrollmentCodeId kCode2 = *EnrollmentCodeId::parse("0190a5c2-7777-7000-8000-000000000202");
const AgentId kA1 = *AgentId::parse("0190a5c2-7777-7000-8000-0000000000a1");
const AgentId kA2 = *AgentId::parse("0190a5c2-7777-7000-8000-0000000000a2");
const AgentId kA3 = *AgentId::parse("0190a5c2-7777-7000-8000-0000000000a3");
const AgentId kA4 = *AgentId::parse("0190a5c2-7777-7000-8000-0000000000a4");
const AgentId kMinted = *AgentId::parse("0190a5c2-7777-7000-8000-0000000000a9");  // not enrolled
const UserId kU1 = *UserId::parse("0190a5c2-7777-7000-8000-0000000000e1");
const UserId kU2 = *UserId::parse("0190a5c2-7777-7000-8000-0000000000e2");
const CommandId kCmd1 = *CommandId::parse("0190a5c2-7777-7000-8000-000000000101");
const CommandId kCmd2 = *CommandId::parse("0190a5c2-7777-7000-8000-000000000102");
const RolloutId kRollout = *RolloutId::parse("0190a5c2-7777-7000-8000-000000000301");
const ControlSourceId kApi = *ControlSourceId::parse("0190a5c2-7777-7000-8000-000000000401");
const codec::Actor kBy{"user:alice", ""};

std::string key_of(char c) {
  return "U" + std::string(55, c);
}

// An agent's own events, with its own sequence.
struct Agent {
  Publisher& pub;
  AgentId id;
  UnixNanos at;
  std::uint64_t seq = 0;

  codec::AgentEventHeader next() {
    ++seq;
    return {EventId::generate(real_clock()), id, AgentSeq{seq},
            at + static_cast<UnixNanos>(seq) * 60'000'000'000};
  }
  void send(schema::Payload type, const std::vector<std::uint8_t>& bytes) {
    pub.sync(codec::agent_event_subject(id, type), bytes, codec::agent_msg_id(id, AgentSeq{seq}));
  }
  void started() {
    auto h = next();
    send(schema::Payload::AgentStarted,
         codec::build_agent_started(h, {.hostname = "host-" + id.str().substr(30),
                                        .os_name = "Debian GNU/Linux",
                                        .os_version = "12",
                                        .agent_version = "0.1.0"}));
  }
  void metrics(float cpu) {
    auto h = next();
    send(schema::Payload::MetricsSample,
         codec::build_metrics(h, {.cpu_percent = cpu,
                                  .memory_total_bytes = 8ull << 30,
                                  .memory_used_bytes = 1ull << 30,
                                  .memory_available_bytes = 4ull << 30}));
  }
};

fs::path definitions(const NatsServerFixture& nats, const std::string& name,
                     std::int64_t events_max_age) {
  const fs::path dir = nats.home() / name;
  fs::create_directories(dir);
  for (const auto& e : fs::directory_iterator(nats.streams_dir())) {
    auto text = files::read_all(e.path());
    REQUIRE(text.has_value());
    auto def = json::parse(*text).as_object();
    if (def.at("name") == "RMM_EVENTS" && events_max_age > 0) {
      def["max_age"] = events_max_age;
      def["duplicate_window"] = events_max_age / 2;
    }
    REQUIRE(files::write_atomic(dir / e.path().filename(), json::serialize(def), 0644).has_value());
  }
  return dir;
}

void apply(Publisher& pub, const fs::path& dir) {
  // Forced: ageing everything out (a shorter max_age over what the stream holds) is the point.
  auto applied = broker::apply_streams(pub.conn_->raw(), dir, 5s,
                                       {.storage_budget = 1LL << 30, .force = true});
  REQUIRE_MESSAGE(applied.has_value(), applied.error().message);
}

// Replays in batches of 7, so ranges of the archive are read in several chunks.
ProjectorCommand run_projector(const NatsServerFixture& nats, const std::string& pg_url,
                               const TempDir& dir, const std::string& name,
                               std::vector<std::string> args) {
  args.push_back("--rebuild-batch-size=7");
  return projector_command(nats, pg_url, dir, name, std::move(args));
}

// The control plane of the read models as rows of text, table by table: everything the control
// events alone determine (enrolled agents by their identity columns; the scope of an alert
// action comes from its alert, which telemetry raised).
std::map<std::string, std::vector<std::string>> control_plane(pqxx::connection& conn) {
  const std::vector<std::pair<std::string, std::string>> queries{
      {"partners", "SELECT ROW(id, name)::text FROM partners"},
      {"clients", "SELECT c::text FROM clients c"},
      {"sites", "SELECT s::text FROM sites s"},
      {"enrollment_codes", "SELECT e::text FROM enrollment_codes e"},
      {"agent_keys", "SELECT k::text FROM agent_keys k"},
      {"clone_suspicions", "SELECT c::text FROM clone_suspicions c"},
      {"agents",
       "SELECT ROW(id, site_id, public_key, fingerprint_hash, enrollment_code_id, "
       "enrolled_at, revoked_at)::text FROM agents WHERE enrolled_at IS NOT NULL"},
      {"users", "SELECT u::text FROM users u"},
      {"user_scopes", "SELECT u::text FROM user_scopes u"},
      {"policies", "SELECT p::text FROM policies p"},
      {"effective_policies",
       "SELECT e::text FROM effective_policies e WHERE agent_id IN "
       "(SELECT id FROM agents WHERE enrolled_at IS NOT NULL)"},
      {"releases", "SELECT r::text FROM releases r"},
      {"rollouts", "SELECT r::text FROM rollouts r"},
      {"rollout_rings", "SELECT r::text FROM rollout_rings r"},
      {"audit_log",
       "SELECT ROW(stream_seq, occurred_at, actor, impersonator, action, target_kind, target_id, "
       "CASE WHEN target_kind = 'alert' THEN NULL ELSE client_id END, "
       "CASE WHEN target_kind = 'alert' THEN NULL ELSE site_id END, detail)::text FROM audit_log"},
      {"projection_checkpoints",
       "SELECT ROW(projection, stream_seq)::text FROM "
       "projection_checkpoints"},
  };
  std::map<std::string, std::vector<std::string>> out;
  pqxx::nontransaction tx(conn);
  for (const auto& [table, sql] : queries) {
    auto& rows = out[table];
    for (const auto& r : tx.exec(sql + " ORDER BY 1")) rows.push_back(r[0].as<std::string>());
  }
  return out;
}

void check_equal(const std::map<std::string, std::vector<std::string>>& live,
                 const std::map<std::string, std::vector<std::string>>& rebuilt) {
  for (const auto& [table, rows] : live) {
    INFO("table " << table);
    CHECK(rebuilt.at(table) == rows);
  }
}

}  // namespace

TEST_CASE("a rebuild after telemetry aged out keeps the control plane of the live read models") {
  NatsServerFixture nats({.apply_streams = false});
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("ctl_retention"));
  TempDir dir("ctl-retention");
  Publisher pub(nats);
  const fs::path normal = definitions(nats, "normal", 0);
  const fs::path short_lived = definitions(nats, "short", 1'000'000'000);
  apply(pub, normal);

  const UnixNanos then = real_clock().now() - 3'600'000'000'000;  // an hour ago
  ControlSource api{pub, kApi, then};
  Agent a1{pub, kA1, then}, a2{pub, kA2, then}, minted{pub, kMinted, then};

  // Before: tenancy, codes, enrollments, users, policies, a command, a release, ticks, telemetry.
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(h, {kC1, kPartner, "Acme", "user:alice"});
  });
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(h, {kC2, kPartner, "Globex", "user:alice", "user:owner"});
  });
  api.publish(schema::Payload::SiteCreated, [](const auto& h) {
    return codec::build_site_created(h, {kS1, kC1, "HQ", "user:alice"});
  });
  api.publish(schema::Payload::SiteCreated, [](const auto& h) {
    return codec::build_site_created(h, {kS2, kC2, "Plant", "user:alice"});
  });
  api.publish(schema::Payload::EnrollmentCodeCreated, [&](const auto& h) {
    return codec::build_enrollment_code_created(
        h, {kCode1, kS1, std::string(64, '1'), then + 86'400'000'000'000, "user:alice"});
  });
  api.publish(schema::Payload::EnrollmentCodeCreated, [&](const auto& h) {
    return codec::build_enrollment_code_created(
        h, {kCode2, kS2, std::string(64, '2'), then + 86'400'000'000'000, "user:alice"});
  });
  api.publish(schema::Payload::AgentEnrolled, [](const auto& h) {
    return codec::build_agent_enrolled(
        h, {kA1, kS1, key_of('A'), std::string(64, 'a'), kCode1, "web-1", false});
  });
  api.publish(schema::Payload::AgentEnrolled, [](const auto& h) {
    return codec::build_agent_enrolled(
        h, {kA2, kS2, key_of('B'), std::string(64, 'b'), kCode2, "db-1", false});
  });
  api.publish(schema::Payload::AgentEnrolled, [](const auto& h) {
    return codec::build_agent_enrolled(
        h, {kA3, kS1, key_of('C'), std::string(64, 'c'), kCode1, "web-2", false});
  });
  api.publish(schema::Payload::CloneSuspected, [](const auto& h) {
    return codec::build_clone_suspected(h, {kA3, std::string(64, 'c'), std::string(64, 'd'), kA4});
  });
  api.publish(schema::Payload::UserCreated, [](const auto& h) {
    return codec::build_user_created(h, {kU1,
                                         "alice",
                                         "Alice",
                                         schema::UserRole::Technician,
                                         {{schema::PolicyScope::Client, kC1.bytes()}},
                                         {"admin:root", ""}});
  });
  api.publish(schema::Payload::UserCreated, [](const auto& h) {
    return codec::build_user_created(
        h, {kU2, "bob", "Bob", schema::UserRole::ReadOnly, {}, {"admin:root", ""}});
  });
  api.publish(schema::Payload::PolicySet, [](const auto& h) {
    return codec::build_policy_set(
        h, {{schema::PolicyScope::Global, {}}, {{"alert.offline.after_s", "600"}}, kBy});
  });
  api.publish(schema::Payload::PolicySet, [](const auto& h) {
    return codec::build_policy_set(h, {{schema::PolicyScope::Site, kS1.bytes()},
                                       {{"alert.cpu.percent", "50"}, {"alert.cpu.minutes", "0"}},
                                       kBy});
  });
  api.publish(schema::Payload::PolicySet, [](const auto& h) {
    return codec::build_policy_set(
        h, {{schema::PolicyScope::Agent, kA2.bytes()}, {{"agent.metrics_interval_s", "30"}}, kBy});
  });
  api.publish(schema::Payload::CommandIssued, [](const auto& h) {
    return codec::build_command_issued(h, {kCmd1, kA1, "shell", "uptime", 10'000, 0, kBy});
  });
  api.publish(schema::Payload::ReleasePublished, [](const auto& h) {
    return codec::build_release_published(h, {.version = "0.2.0",
                                              .platform = "linux",
                                              .arch = "x86_64",
                                              .size = 1234,
                                              .sha256 = std::string(64, 'f'),
                                              .manifest = "{}",
                                              .signature = "ed25519 k1 00",
                                              .key_id = "k1",
                                              .actor = "admin:root"});
  });
  api.publish(schema::Payload::RolloutCreated, [](const auto& h) {
    return codec::build_rollout_created(h, {.rollout = kRollout,
                                            .version = "0.2.0",
                                            .platform = "linux",
                                            .arch = "x86_64",
                                            .scope = {schema::PolicyScope::Client, kC1.bytes()},
                                            .rings = {{"canary", {kA1}, 0}, {"rest", {}, 100}},
                                            .advance_healthy_percent = 90,
                                            .halt_failed_percent = 10,
                                            .by = kBy});
  });
  api.publish(schema::Payload::ClockTick,
              [&](const auto& h) { return codec::build_clock_tick(h, {then + 60'000'000'000}); });
  a1.started();
  a1.metrics(93);  // above the site's 50 %: a cpu alert
  a2.started();
  a2.metrics(10);
  minted.started();
  minted.metrics(20);
  {
    auto h = a1.next();
    a1.send(schema::Payload::CommandReceived,
            codec::build_command_received(h, {kCmd1, "shell", "user:alice", 1}));
  }
  auto projector = start_projector(nats, pg_url, dir, 1);
  auto conn = pg::connect(pg_url, {.attempts = 50});
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  auto folded = [&](std::uint64_t seq) {
    return wait_until(
        [&] {
          try {
            return checkpoint(**conn) == static_cast<std::int64_t>(seq);
          } catch (const std::exception&) {
            return false;  // not migrated yet
          }
        },
        60s, 20ms);
  };
  REQUIRE_MESSAGE(folded(pub.last_seq.load()), "see " << (dir / "projector-1.log").string());
  // An alert action on the alert the telemetry raised.
  auto cpu_alert = pqxx::nontransaction(**conn)
                       .exec1("SELECT id::text FROM alerts WHERE rule = 'cpu' AND agent_id = '" +
                              kA1.str() + "'")[0]
                       .as<std::string>();
  api.publish(schema::Payload::AlertAcknowledged, [&](const auto& h) {
    return codec::build_alert_acknowledged(h, {*AlertId::parse(cpu_alert), "looking", kBy});
  });
  a1.metrics(45);  // the log's last message is telemetry: a rebuild must move past it
  REQUIRE(folded(pub.last_seq.load()));
  const std::uint64_t aged_through = pub.last_seq.load();

  // Telemetry retention passes: everything so far ages out of RMM_EVENTS.
  apply(pub, short_lived);
  StreamReader reader(nats);
  REQUIRE(wait_until([&] { return reader.state("RMM_EVENTS").messages == 0; }, 30s, 50ms));
  apply(pub, normal);
  REQUIRE(reader.state("RMM_CONTROL").messages == api.seq);
  const std::uint64_t archived = api.seq;  // read back in chunks of the rebuild's batch size (7)

  auto count = [&](const std::string& sql) { return scalar(**conn, sql).value_or(-1); };
  // After: changes to what aged out, a new enrollment, more telemetry.
  auto publish_after = [&] {
    Agent a4{pub, kA4, then + 1'800'000'000'000};
    api.publish(schema::Payload::UserUpdated, [](const auto& h) {
      return codec::build_user_updated(
          h, {kU1, schema::UserRole::Admin, {{schema::PolicyScope::Site, kS2.bytes()}}, true, kBy});
    });
    api.publish(schema::Payload::SiteRenamed, [](const auto& h) {
      return codec::build_site_renamed(h, {kS1, "Head office", kBy});
    });
    api.publish(schema::Payload::ClientDeleted, [](const auto& h) {
      return codec::build_client_deleted(h, {kC2, kBy});
    });
    api.publish(schema::Payload::PolicySet, [](const auto& h) {
      return codec::build_policy_set(
          h, {{schema::PolicyScope::Site, kS1.bytes()}, {{"alert.cpu.percent", "70"}}, kBy});
    });
    api.publish(schema::Payload::EnrollmentCodeRevoked, [](const auto& h) {
      return codec::build_enrollment_code_revoked(h, {kCode1, "user:alice"});
    });
    api.publish(schema::Payload::AgentRevoked, [](const auto& h) {
      return codec::build_agent_revoked(h, {kA2, {key_of('B')}, "user:alice", "stolen laptop"});
    });
    api.publish(schema::Payload::AgentEnrolled, [](const auto& h) {
      return codec::build_agent_enrolled(
          h, {kA4, kS2, key_of('D'), std::string(64, 'd'), kCode2, "web-2-clone", false});
    });
    api.publish(schema::Payload::CommandIssued, [](const auto& h) {
      return codec::build_command_issued(h, {kCmd2, kA4, "shell", "df -h", 10'000, 0, kBy});
    });
    a1.metrics(40);
    a4.started();
    a4.metrics(30);
    REQUIRE(folded(pub.last_seq.load()));
    REQUIRE(reader.state("RMM_EVENTS").first_seq == aged_through + 1);
    REQUIRE(wait_until([&] { return reader.state("RMM_CONTROL").messages == api.seq; }, 10s));
  };
  CHECK(count("SELECT count(*) FROM agents WHERE id = '" + kMinted.str() + "'") == 1);
  CHECK(count("SELECT count(*) FROM alerts WHERE id = '" + cpu_alert + "'") == 1);

  SUBCASE("verify compares the control plane, rebuild restores it, a snapshot before is refused") {
    publish_after();
    const auto live = control_plane(**conn);
    REQUIRE(live.at("clients").size() == 2);
    REQUIRE(live.at("agents").size() == 4);
    REQUIRE(live.at("audit_log").size() == api.seq - 1);  // every control event but the tick
    auto verify = run_projector(nats, pg_url, dir, "verify", {"verify"});
    INFO(verify.out);
    CHECK(verify.status == 0);
    CHECK(verify.out.find(fmt::format("not comparable (the stream no longer holds the telemetry "
                                      "before sequence {}",
                                      aged_through + 1)) != std::string::npos);
    CHECK(verify.out.find("metrics") != std::string::npos);
    CHECK(verify.out.find(fmt::format("{} tables compared",
                                      projector::rebuild::control_plane_tables().size())) !=
          std::string::npos);
    CHECK(verify.out.find(" 0 differ") != std::string::npos);

    auto rebuild = run_projector(nats, pg_url, dir, "rebuild", {"rebuild"});
    INFO(rebuild.out);
    REQUIRE(rebuild.status == 0);
    CHECK(rebuild.out.find(fmt::format("rebuild.hole_filled stream=RMM_EVENTS to={} "
                                       "archive=RMM_CONTROL control_events={}",
                                       aged_through, archived)) != std::string::npos);
    check_equal(live, control_plane(**conn));
    // The telemetry that aged out is gone from the rebuilt read models: the agent that only its
    // telemetry knew, and the alert it raised.
    CHECK(count("SELECT count(*) FROM agents WHERE id = '" + kMinted.str() + "'") == 0);
    CHECK(count("SELECT count(*) FROM alerts WHERE id = '" + cpu_alert + "'") == 0);
    CHECK(count("SELECT count(*) FROM agents WHERE id = '" + kA4.str() +
                "' AND hostname LIKE 'host-%'") == 1);

    // A point in time before the stream's start cannot be built; one after it can.
    auto before = run_projector(nats, pg_url, dir, "snapshot-before",
                                {"rebuild", "--until", format_time_utc(then), "--schema", "snap1"});
    CHECK(before.status == 1);
    CHECK(before.out.find("aged out") != std::string::npos);
    auto now = run_projector(nats, pg_url, dir, "snapshot-now",
                             {"rebuild", "--until", "now", "--schema", "snap2"});
    INFO(now.out);
    REQUIRE(now.status == 0);
    CHECK(count("SELECT count(*) FROM snap2.clients") == 2);
    CHECK(count("SELECT count(*) FROM snap2.users WHERE disabled") == 1);
    CHECK(count("SELECT count(*) FROM snap2.audit_log") == static_cast<std::int64_t>(api.seq - 1));
  }

  SUBCASE("without the archive, or with one made after the events aged out, rebuild refuses") {
    publish_after();
    const auto live = control_plane(**conn);
    auto services = nats::Connection::connect(
        {.url = nats.url(), .creds_file = nats.services_creds().string(), .name = "delete"});
    REQUIRE(services.has_value());
    auto deleted =
        broker::js_api_request((*services)->raw(), "$JS.API.STREAM.DELETE.RMM_CONTROL", "", 5s);
    REQUIRE_MESSAGE(deleted.has_value(), deleted.error().message);

    auto missing = run_projector(nats, pg_url, dir, "rebuild-missing", {"rebuild"});
    INFO(missing.out);
    CHECK(missing.status == 1);
    CHECK(missing.out.find("the control archive RMM_CONTROL does not exist") != std::string::npos);
    CHECK(missing.out.find(fmt::format("RMM_EVENTS no longer holds sequences 1 to {}",
                                       aged_through)) != std::string::npos);
    check_equal(live, control_plane(**conn));

    // Recreated now, the archive copies only what RMM_EVENTS still holds.
    apply(pub, normal);
    REQUIRE(wait_until([&] { return reader.state("RMM_CONTROL").messages == 8; }, 10s));
    auto late = run_projector(nats, pg_url, dir, "rebuild-late", {"rebuild"});
    INFO(late.out);
    CHECK(late.status == 1);
    CHECK(late.out.find("the rebuilt read models lack") != std::string::npos);
    check_equal(live, control_plane(**conn));
    auto verify = run_projector(nats, pg_url, dir, "verify-late", {"verify"});
    CHECK(verify.status == 1);
  }
  SUBCASE("a log that aged out whole rebuilds to the live checkpoint") {
    const auto live = control_plane(**conn);
    REQUIRE(live.at("projection_checkpoints") ==
            std::vector<std::string>{fmt::format("(core,{})", aged_through)});
    auto verify = run_projector(nats, pg_url, dir, "verify-empty", {"verify"});
    INFO(verify.out);
    CHECK(verify.status == 0);
    CHECK(verify.out.find(fmt::format("verify at checkpoint {}", aged_through)) !=
          std::string::npos);
    auto rebuild = run_projector(nats, pg_url, dir, "rebuild-empty", {"rebuild"});
    INFO(rebuild.out);
    REQUIRE(rebuild.status == 0);
    check_equal(live, control_plane(**conn));
  }
  CHECK(projector.terminate() == 0);
}
