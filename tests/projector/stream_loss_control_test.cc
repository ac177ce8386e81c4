// The control plane is never the victim of a stream overflow (issue 13 §4.2): RMM_EVENTS, with a
// small max_msgs and discard old, deletes a mix of control events (tenancy, enrollment, a user, a
// policy, a command) and telemetry while the projector is stopped. When it starts again it folds
// the deleted control events from the archive (RMM_CONTROL) under their own sequences, records as
// lost only the telemetry, says how many control events it recovered, and `rmm-projector verify`
// finds the control plane equal to a replay's. It waits for an archive that lags rather than pass
// the range; without an archive it records the whole range lost and says control events went too.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "common/control_events.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const PartnerId kPartner = *PartnerId::parse(kDefaultPartnerId);
const ClientId kC1 = *ClientId::parse("0190a5c2-8888-7000-8000-0000000000c1");
const ClientId kC2 = *ClientId::parse("0190a5c2-8888-7000-8000-0000000000c2");
const SiteId kS1 = *SiteId::parse("0190a5c2-8888-7000-8000-0000000000d1");
const SiteId kS2 = *SiteId::parse("0190a5c2-8888-7000-8000-0000000000d2");
const EnrollmentCodeId kCode = *EnrollmentCodeId::parse("0190a5c2-8888-7000-8000-000000000201");
const AgentId kA1 = *AgentId::parse("0190a5c2-8888-7000-8000-0000000000a1");
const AgentId kTelemetry = *AgentId::parse("0190a5c2-8888-7000-8000-0000000000f1");
const UserId kU1 = *UserId::parse("0190a5c2-8888-7000-8000-0000000000e1");
const CommandId kCmd = *CommandId::parse("0190a5c2-8888-7000-8000-000000000101");
const ControlSourceId kApi = *ControlSourceId::parse("0190a5c2-8888-7000-8000-000000000401");
const codec::Actor kBy{"user:alice", ""};
constexpr std::int64_t kMaxMsgs = 40;

// Heartbeats of an agent only its telemetry knows.
struct Telemetry {
  Publisher& pub;
  std::uint64_t seq = 0;

  void send(int n) {
    for (int i = 0; i < n; ++i) {
      ++seq;
      pub.async(codec::agent_event_subject(kTelemetry, schema::Payload::Heartbeat),
                codec::build_heartbeat(e2e_header(kTelemetry, seq), {.agent_version = "0.1.0"}),
                codec::agent_msg_id(kTelemetry, AgentSeq{seq}));
    }
    pub.complete();
  }
};

}  // namespace

TEST_CASE("a stream overflow while the projector is stopped loses telemetry, not control events") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("stream_loss_control"));
  TempDir dir("projector-loss-control");
  Publisher pub(nats);
  StreamReader reader(nats);
  set_stream_limit(pub.js_->raw(), "RMM_EVENTS", kMaxMsgs, js_DiscardOld);
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  auto count = [&](const std::string& sql) { return scalar(**conn, sql).value_or(-1); };
  auto cp = [&] {
    try {
      return checkpoint(**conn);
    } catch (const std::exception&) {
      return std::int64_t{0};  // not migrated yet
    }
  };
  auto archived = [&](std::uint64_t n) {
    return wait_until([&] { return reader.state("RMM_CONTROL").messages == n; }, 10s, 20ms);
  };
  ControlSource api{pub, kApi};
  Telemetry telemetry{pub};

  // Folded: a client and some telemetry.
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(h, {kC1, kPartner, "Acme", "user:alice"});
  });
  telemetry.send(5);
  {
    auto p = start_projector(nats, pg_url, dir, 1);
    REQUIRE(wait_until([&] { return cp() == static_cast<std::int64_t>(pub.last_seq.load()); }, 30s,
                       20ms));
    CHECK(p.terminate(10s) == 0);
  }
  const std::uint64_t folded = pub.last_seq.load();

  // While the projector is stopped: the control plane grows, between telemetry.
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(h, {kC2, kPartner, "Globex", "user:alice"});
  });
  telemetry.send(3);
  api.publish(schema::Payload::SiteCreated, [](const auto& h) {
    return codec::build_site_created(h, {kS1, kC1, "HQ", "user:alice"});
  });
  telemetry.send(3);
  api.publish(schema::Payload::SiteCreated, [](const auto& h) {
    return codec::build_site_created(h, {kS2, kC2, "Plant", "user:alice"});
  });
  telemetry.send(3);
  api.publish(schema::Payload::EnrollmentCodeCreated, [](const auto& h) {
    return codec::build_enrollment_code_created(
        h, {kCode, kS1, std::string(64, '1'), 1'900'000'000'000'000'000, "user:alice"});
  });
  telemetry.send(3);
  api.publish(schema::Payload::AgentEnrolled, [](const auto& h) {
    return codec::build_agent_enrolled(
        h, {kA1, kS1, "U" + std::string(55, 'A'), std::string(64, 'a'), kCode, "web-1", false});
  });
  telemetry.send(3);
  api.publish(schema::Payload::UserCreated, [](const auto& h) {
    return codec::build_user_created(h, {kU1,
                                         "alice",
                                         "Alice",
                                         schema::UserRole::Technician,
                                         {{schema::PolicyScope::Client, kC1.bytes()}},
                                         {"admin:root", ""}});
  });
  telemetry.send(3);
  api.publish(schema::Payload::PolicySet, [](const auto& h) {
    return codec::build_policy_set(
        h, {{schema::PolicyScope::Site, kS1.bytes()}, {{"alert.cpu.percent", "50"}}, kBy});
  });
  telemetry.send(3);
  api.publish(schema::Payload::CommandIssued, [](const auto& h) {
    return codec::build_command_issued(h, {kCmd, kA1, "shell", "uptime", 10'000, 0, kBy});
  });
  telemetry.send(3);
  const std::uint64_t stopped_controls = api.seq - 1;  // published while it was stopped
  REQUIRE(archived(api.seq));

  const std::vector<std::string> args{"--stream-check-interval=200ms"};
  SUBCASE("the archive kept up: the control events are folded, only the telemetry is lost") {
    telemetry.send(60);  // the stream keeps the last 40 messages
    const auto state = reader.state("RMM_EVENTS");
    REQUIRE(state.first_seq > folded + 1 + 32);  // every event published while it was stopped
    const std::uint64_t from = folded + 1, to = state.first_seq - 1;
    const std::uint64_t lost = to - from + 1 - stopped_controls;
    {
      auto p = start_projector(nats, pg_url, dir, 2, args);
      REQUIRE(
          wait_until([&] { return cp() == static_cast<std::int64_t>(state.last_seq); }, 60s, 20ms));
      CHECK(p.terminate(10s) == 0);
    }
    const auto log = read_file(dir / "projector-2.log");
    CAPTURE(log);
    CHECK(log.find(fmt::format("level=error component=projector msg=stream.events_lost "
                               "stream=RMM_EVENTS from={} to={} count={} "
                               "control_events_recovered={} archive=RMM_CONTROL",
                               from, to, lost, stopped_controls)) != std::string::npos);
    CHECK(log.find("stream.control_events_lost") == std::string::npos);

    // The control plane is complete.
    CHECK(count("SELECT count(*) FROM clients") == 2);
    CHECK(count("SELECT count(*) FROM sites") == 2);
    CHECK(count("SELECT count(*) FROM enrollment_codes WHERE id = '" + kCode.str() + "'") == 1);
    CHECK(count("SELECT count(*) FROM agents WHERE id = '" + kA1.str() + "' AND site_id = '" +
                kS1.str() + "' AND enrolled_at IS NOT NULL") == 1);
    CHECK(count("SELECT count(*) FROM users WHERE id = '" + kU1.str() + "'") == 1);
    CHECK(count("SELECT count(*) FROM policies WHERE scope = 'site' AND scope_id = '" + kS1.str() +
                "'") == 1);
    CHECK(count("SELECT count(*) FROM commands WHERE id = '" + kCmd.str() + "'") == 1);
    CHECK(count(fmt::format("SELECT count(*) FROM audit_log WHERE stream_seq BETWEEN {} AND {}",
                            from, to)) == static_cast<std::int64_t>(stopped_controls));
    // Only the telemetry is counted lost.
    CHECK(count(fmt::format("SELECT count(*) FROM ops.stream_losses WHERE from_seq = {} AND "
                            "to_seq = {} AND count = {} AND recovered = {} AND acknowledged_at "
                            "IS NULL",
                            from, to, lost, stopped_controls)) == 1);
    CHECK(count("SELECT count(*) FROM ops.stream_losses") == 1);

    auto losses = projector_command(nats, pg_url, dir, "losses", {"losses"});
    CAPTURE(losses.out);
    CHECK(losses.status == 1);
    CHECK(losses.out.find(fmt::format("({} events, besides {} control events recovered from the "
                                      "archive)",
                                      lost, stopped_controls)) != std::string::npos);

    // A replay fills the same range from the same archive: the control plane is equal.
    auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
    CAPTURE(verify.out);
    CHECK(verify.status == 0);
    CHECK(verify.out.find(" 0 differ") != std::string::npos);
  }

  SUBCASE("the archive lags: the projector waits for it instead of passing the range") {
    // The archive holds every control event so far and then refuses more (full, discard new).
    set_stream_limit(pub.js_->raw(), "RMM_CONTROL", static_cast<std::int64_t>(api.seq),
                     js_DiscardNew);
    telemetry.send(60);
    api.publish(schema::Payload::ClientRenamed, [](const auto& h) {
      return codec::build_client_renamed(h, {kC2, "Globex Corp", kBy});
    });
    const auto state = reader.state("RMM_EVENTS");
    REQUIRE(state.first_seq > folded + 1 + 32);
    const std::uint64_t from = folded + 1, to = state.first_seq - 1;
    const auto log_file = dir / "projector-2.log";
    auto p = start_projector(nats, pg_url, dir, 2, args);
    // The archive cannot show it holds every control event up to the range's end.
    REQUIRE(wait_until(
        [&] { return read_file(log_file).find("msg=stream.gap_deferred") != std::string::npos; },
        30s, 50ms));
    CHECK(cp() == static_cast<std::int64_t>(folded));
    CHECK(count("SELECT count(*) FROM ops.stream_losses") == 0);
    CHECK(count("SELECT count(*) FROM clients") == 1);

    set_stream_limit(pub.js_->raw(), "RMM_CONTROL", -1, js_DiscardNew);
    REQUIRE(archived(api.seq));
    REQUIRE(
        wait_until([&] { return cp() == static_cast<std::int64_t>(state.last_seq); }, 60s, 20ms));
    CHECK(p.terminate(10s) == 0);
    const auto log = read_file(log_file);
    CAPTURE(log);
    CHECK(log.find(fmt::format("msg=stream.events_lost stream=RMM_EVENTS from={} to={} count={} "
                               "control_events_recovered={}",
                               from, to, to - from + 1 - stopped_controls, stopped_controls)) !=
          std::string::npos);
    CHECK(count("SELECT count(*) FROM clients WHERE name = 'Globex Corp'") == 1);
    CHECK(count("SELECT count(*) FROM users") == 1);
    CHECK(count(fmt::format("SELECT recovered FROM ops.stream_losses WHERE from_seq = {}", from)) ==
          static_cast<std::int64_t>(stopped_controls));
    auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
    CAPTURE(verify.out);
    CHECK(verify.status == 0);
  }

  SUBCASE("without the archive the whole range is lost, and the log says control events too") {
    auto deleted = js_DeleteStream(pub.js_->raw(), "RMM_CONTROL", nullptr, nullptr);
    REQUIRE(deleted == NATS_OK);
    telemetry.send(60);
    const auto state = reader.state("RMM_EVENTS");
    const std::uint64_t from = folded + 1, to = state.first_seq - 1;
    {
      auto p = start_projector(nats, pg_url, dir, 2, args);
      REQUIRE(
          wait_until([&] { return cp() == static_cast<std::int64_t>(state.last_seq); }, 60s, 20ms));
      CHECK(p.terminate(10s) == 0);
    }
    const auto log = read_file(dir / "projector-2.log");
    CAPTURE(log);
    CHECK(log.find(fmt::format("level=error component=projector msg=stream.control_events_lost "
                               "stream=RMM_EVENTS from={} to={} archive=RMM_CONTROL",
                               from, to)) != std::string::npos);
    CHECK(log.find(fmt::format("msg=stream.events_lost stream=RMM_EVENTS from={} to={} count={} "
                               "control_events_recovered=0",
                               from, to, to - from + 1)) != std::string::npos);
    CHECK(count(fmt::format("SELECT count(*) FROM ops.stream_losses WHERE from_seq = {} AND "
                            "to_seq = {} AND count = {} AND recovered = 0 AND reason LIKE "
                            "'%control events lost too: the control archive RMM_CONTROL does "
                            "not exist%'",
                            from, to, to - from + 1)) == 1);
    CHECK(count("SELECT count(*) FROM clients") == 1);
  }
}
