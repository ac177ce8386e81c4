// End to end through a real nats-server, PostgreSQL and the rmm-projector binary with its ticker
// on: control events as the API publishes them, agent events, and ClockTicks from the ticker
// become users, policies, commands, audit rows and alerts (offline detected by a real tick).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/nontransaction>

#include "admin/tenancy/control_publisher.h"
#include "common/command_codec.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "projector/ticker.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const ClientId kClient = *ClientId::parse("0190a5c2-5555-7000-8000-0000000000c1");
const SiteId kSite = *SiteId::parse("0190a5c2-5555-7000-8000-0000000000d1");
const AgentId kA = *AgentId::parse("0190a5c2-5555-7000-8000-0000000000a1");
const UserId kUser = *UserId::parse("0190a5c2-5555-7000-8000-0000000000e1");
const CommandId kCmd1 = *CommandId::parse("0190a5c2-5555-7000-8000-000000000101");
const CommandId kCmd2 = *CommandId::parse("0190a5c2-5555-7000-8000-000000000102");
const ControlSourceId kApi = *ControlSourceId::parse("0190a5c2-5555-7000-8000-000000000301");
const codec::Actor kBy{"user:alice", ""};

}  // namespace

TEST_CASE("ticks round to the interval and carry no msg id that could be sent first") {
  CHECK(projector::Ticker::tick_of(1'000'015'999'000'000, 15s) == 1'000'005'000'000'000);
  CHECK(projector::Ticker::tick_of(45'000'000'000, 15s) == 45'000'000'000);
  NatsServerFixture nats;
  Publisher pub(nats);
  projector::Ticker ticker(*pub.conn_, 15s);
  auto a = ticker.publish_tick(1'000'015'999'000'000);
  REQUIRE_MESSAGE(a.has_value(), a.error().message);
  CHECK_FALSE(a->duplicate);
  StreamReader reader(nats);
  const auto stored = reader.read("RMM_EVENTS");
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].seq == a->seq.value);
  CHECK(stored[0].subject == codec::control_event_subject(schema::Payload::ClockTick));
  CHECK(stored[0].msg_id.empty());
}

// Issue 16 §3, the control plane's side. The stream's duplicate window is keyed by the msg id
// alone, whatever the subject, and an agent may publish on its own subject with any id. With the
// ids `tick:<tick_ns>` and `<source id>:<seq>`, an agent that sent the ids of the coming ticks
// first had every tick answered "duplicate" (no offline alert ever again), and one that had seen an
// API instance's source id (a raw archive) could do the same to that instance's next events.
TEST_CASE("an agent cannot have ticks or control events answered duplicate") {
  NatsServerFixture nats;
  Publisher pub(nats);
  const auto attacker = AgentId::generate(real_clock());
  nats::ConnectOptions o;
  o.url = nats.url();
  o.creds_file = nats.mint_agent(attacker).string();
  o.inbox_prefix = "_INBOX." + attacker.str();
  auto conn = nats::Connection::connect(o);
  REQUIRE_MESSAGE(conn.has_value(), (conn ? "" : conn.error().message));
  auto js = nats::JetStream::create(**conn, {});
  REQUIRE(js.has_value());
  const auto own_subject = codec::agent_event_subject(attacker, schema::Payload::Heartbeat);
  const auto own_bytes = codec::build_heartbeat(e2e_header(attacker, 1), {"0.1.0", 1, 0, 0});

  projector::Ticker ticker(*pub.conn_, 15s);
  tenancy::ControlPublisher api(*pub.js_, "api", real_clock());
  const UnixNanos now = real_clock().now();
  std::vector<UnixNanos> ticks;
  for (int k = 0; k < 4; ++k) {
    ticks.push_back(projector::Ticker::tick_of(now + k * 15'000'000'000LL, 15s));
  }
  std::vector<std::string> forged;
  for (auto t : ticks) forged.push_back(fmt::format("tick:{}", t));
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    forged.push_back(codec::control_msg_id(api.source(), seq));
  }
  for (const auto& id : forged) {
    auto ack = (*js)->publish(own_subject, own_bytes, id, 5s);
    REQUIRE_MESSAGE(ack.has_value(), (ack ? "" : ack.error().message));
    CHECK_FALSE(ack->duplicate);  // stored under that id: in the stream's dedupe window
  }

  for (auto t : ticks) {
    auto ack = ticker.publish_tick(t);
    REQUIRE_MESSAGE(ack.has_value(), (ack ? "" : ack.error().message));
    CHECK_FALSE(ack->duplicate);
  }
  for (int i = 0; i < 5; ++i) {
    auto ack = api.publish(schema::Payload::ClientCreated, [&](const auto& h) {
      return codec::build_client_created(
          h, {ClientId::generate(real_clock()), *PartnerId::parse(kDefaultPartnerId), "Acme",
              "user:alice"});
    });
    REQUIRE_MESSAGE(ack.has_value(), (ack ? "" : ack.error().message));
    CHECK_FALSE(ack->duplicate);
  }
}

TEST_CASE("control events, agent events and ticks through the projector become rows") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("control_e2e"));
  TempDir dir("projector");
  Publisher pub(nats);

  // The agent was last heard from five minutes ago (event time); the ticker runs on the wall
  // clock, so its first tick finds it offline (alert.offline.after_s = 30 for its site).
  const UnixNanos now = real_clock().now();
  const UnixNanos then = now - 300 * 1'000'000'000LL;
  ControlSource api{pub, kApi, then, 0};
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(
        h, {kClient, *PartnerId::parse(kDefaultPartnerId), "Acme", "user:alice"});
  });
  api.publish(schema::Payload::SiteCreated, [](const auto& h) {
    return codec::build_site_created(h, {kSite, kClient, "HQ", "user:alice"});
  });
  api.publish(schema::Payload::AgentEnrolled, [](const auto& h) {
    return codec::build_agent_enrolled(
        h, {kA, kSite, "U" + std::string(55, 'A'), std::string(64, 'b'),
            *EnrollmentCodeId::parse("0190a5c2-5555-7000-8000-000000000201"), "web-1", false});
  });
  api.publish(schema::Payload::PolicySet, [](const auto& h) {
    return codec::build_policy_set(
        h,
        {{schema::PolicyScope::Site, kSite.bytes()},
         {{"alert.offline.after_s", "30"}, {"alert.cpu.percent", "50"}, {"alert.cpu.minutes", "0"}},
         kBy});
  });
  api.publish(schema::Payload::UserCreated, [](const auto& h) {
    return codec::build_user_created(h, {kUser,
                                         "alice",
                                         "Alice",
                                         schema::UserRole::Technician,
                                         {{schema::PolicyScope::Client, kClient.bytes()}},
                                         {"admin:root", ""}});
  });
  api.publish(schema::Payload::CommandIssued, [](const auto& h) {
    return codec::build_command_issued(h, {kCmd1, kA, "shell", "uptime", 10'000, 0, kBy});
  });

  auto agent_event = [&](std::uint64_t seq, schema::Payload type,
                         const std::vector<std::uint8_t>& bytes) {
    pub.sync(codec::agent_event_subject(kA, type), bytes, codec::agent_msg_id(kA, AgentSeq{seq}));
  };
  auto hdr = [&](std::uint64_t seq) {
    auto h = e2e_header(kA, seq);
    h.occurred_at = then + static_cast<UnixNanos>(seq) * 1'000'000'000;
    return h;
  };
  codec::MetricsInfo hot{.cpu_percent = 93, .memory_total_bytes = 100, .memory_used_bytes = 10};
  agent_event(1, schema::Payload::MetricsSample, codec::build_metrics(hdr(1), hot));
  agent_event(2, schema::Payload::CommandReceived,
              codec::build_command_received(hdr(2), {kCmd1, "shell", "user:alice", 1}));
  agent_event(3, schema::Payload::CommandCompleted,
              codec::build_command_completed(hdr(3), {.command = kCmd1, .exit_code = 0}));
  // Command 2: the agent's report is in the log before the API's CommandIssued.
  agent_event(4, schema::Payload::CommandReceived,
              codec::build_command_received(hdr(4), {kCmd2, "shell", "user:alice", 2}));
  agent_event(5, schema::Payload::CommandStarted, codec::build_command_started(hdr(5), kCmd2, 42));
  api.publish(schema::Payload::CommandIssued, [](const auto& h) {
    return codec::build_command_issued(
        h, {kCmd2, kA, "shell", "sleep 100", 0, 0, {"user:alice", "user:owner"}});
  });
  api.publish(schema::Payload::CommandCancelRequested, [](const auto& h) {
    return codec::build_command_cancel_requested(h, {kCmd2, kA, CommandId(), kBy});
  });
  const std::int64_t control_events = static_cast<std::int64_t>(api.seq);

  auto projector = start_projector(nats, pg_url, dir, 1, {"--ticker=true", "--tick-interval=1s"});
  auto conn = pg::connect(pg_url, {.attempts = 50});
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  auto count = [&](const std::string& sql) -> std::int64_t {
    try {
      return scalar(**conn, sql).value_or(-1);
    } catch (const std::exception&) {
      return -1;  // the projector has not applied the migrations yet
    }
  };
  const bool offline = wait_until(
      [&] {
        return count("SELECT count(*) FROM alerts WHERE rule = 'offline' AND status = 'active'") ==
               1;
      },
      30s, 50ms);
  REQUIRE_MESSAGE(offline, "no offline alert; see " << (dir / "projector-1.log").string());

  // The tick is past the last event by more than 30 s, and no later than now.
  const auto raised_at = count(
      "SELECT (extract(epoch FROM raised_at) * 1000)::bigint FROM alerts WHERE rule = 'offline'");
  CHECK(raised_at * 1'000'000 - (then + 5'000'000'000) > 30'000'000'000LL);
  CHECK(raised_at * 1'000'000 <= real_clock().now());
  CHECK(count("SELECT count(*) FROM alerts WHERE rule = 'cpu' AND status = 'active'") == 1);
  CHECK(count("SELECT count(*) FROM audit_log") == control_events);
  CHECK(count("SELECT count(*) FROM audit_log WHERE client_id IS NOT NULL") == control_events - 1);
  CHECK(count("SELECT count(*) FROM users WHERE username = 'alice' AND role = 'technician'") == 1);
  CHECK(count("SELECT count(*) FROM effective_policies WHERE key = 'alert.offline.after_s' AND "
              "value = '30' AND source_scope = 'site'") == 1);

  pqxx::nontransaction tx(**conn);
  auto cmd = [&](const CommandId& id) {
    return tx
        .exec_params1(
            "SELECT status || ' ' || issuer || ' ' || (issued_at IS NOT NULL) || ' ' || "
            "(cancel_requested_at IS NOT NULL) FROM commands WHERE id = $1::uuid",
            id.str())[0]
        .as<std::string>();
  };
  CHECK(cmd(kCmd1) == "completed user:alice true false");
  CHECK(cmd(kCmd2) == "started user:alice true true");
  CHECK(projector.terminate() == 0);
}
