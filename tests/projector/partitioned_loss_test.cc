// Issue 17 §2 with issue 13 §4.2: the partitioned projection behind a stream that overflowed.
// RMM_EVENTS, with a small max_msgs and discard old, deletes control events (a client, a site, a
// user) and several agents' telemetry while `rmm-projector --partitions=16` is stopped. When it
// starts again, every unit finds the deleted range past its position: the range is recorded once
// for the projection (not once per unit), the control unit folds its control events from the
// archive (RMM_CONTROL) in the transaction that moves it over the range, no partition passes the
// range before that, `rmm-projector losses` shows the one loss, and verify equals a replay. While
// the archive lags, the control unit waits for it and no partition folds past the range.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <thread>

#include "common/control_events.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "common/projection_position.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const PartnerId kPartner = *PartnerId::parse(kDefaultPartnerId);
const ClientId kC1 = *ClientId::parse("0190a5c2-9999-7000-8000-0000000000c1");
const ClientId kC2 = *ClientId::parse("0190a5c2-9999-7000-8000-0000000000c2");
const SiteId kS1 = *SiteId::parse("0190a5c2-9999-7000-8000-0000000000d1");
const UserId kU1 = *UserId::parse("0190a5c2-9999-7000-8000-0000000000e1");
const ControlSourceId kApi = *ControlSourceId::parse("0190a5c2-9999-7000-8000-000000000401");
constexpr std::int64_t kMaxMsgs = 40;
constexpr int kAgents = 8;  // spread over several partitions

// Heartbeats of kAgents agents, round robin.
struct Telemetry {
  Publisher& pub;
  std::vector<std::uint64_t> seqs = std::vector<std::uint64_t>(kAgents, 0);

  static AgentId agent(int i) {
    return *AgentId::parse(fmt::format("0190a5c2-9999-7000-8000-0000000001{:02x}", i));
  }
  void send(int n) {
    for (int i = 0; i < n; ++i) {
      const int a = i % kAgents;
      const auto seq = ++seqs[a];
      pub.async(codec::agent_event_subject(agent(a), schema::Payload::Heartbeat),
                codec::build_heartbeat(e2e_header(agent(a), seq), {.agent_version = "0.1.0"}),
                codec::agent_msg_id(agent(a), AgentSeq{seq}));
    }
    pub.complete();
  }
};

}  // namespace

TEST_CASE(
    "partitioned projection: a stream overflow while stopped is recorded once, control "
    "events refilled from the archive") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("partitioned_loss"));
  TempDir dir("projector-partitioned-loss");
  Publisher pub(nats);
  StreamReader reader(nats);
  set_stream_limit(pub.js_->raw(), "RMM_EVENTS", kMaxMsgs, js_DiscardOld);
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  auto count = [&](const std::string& sql) { return scalar(**conn, sql).value_or(-1); };
  const std::vector<std::string> partitioned{"--partitions=16", "--lock-poll-interval=200ms"};
  ControlSource api{pub, kApi};
  Telemetry telemetry{pub};

  // Folded: a client and some telemetry.
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(h, {kC1, kPartner, "Acme", "user:alice"});
  });
  telemetry.send(16);
  {
    auto p = start_projector(nats, pg_url, dir, 1, partitioned);
    REQUIRE_MESSAGE(wait_until(
                        [&] {
                          return folded_through(**conn) ==
                                 static_cast<std::int64_t>(pub.last_seq.load());
                        },
                        60s, 20ms),
                    read_file(dir / "projector-1.log"));
    CHECK(p.terminate(10s) == 0);
  }
  const std::uint64_t folded = pub.last_seq.load();

  // While it is stopped: the control plane grows between telemetry, then the stream overflows.
  api.publish(schema::Payload::ClientCreated, [](const auto& h) {
    return codec::build_client_created(h, {kC2, kPartner, "Globex", "user:alice"});
  });
  telemetry.send(5);
  api.publish(schema::Payload::SiteCreated, [](const auto& h) {
    return codec::build_site_created(h, {kS1, kC1, "HQ", "user:alice"});
  });
  telemetry.send(5);
  api.publish(schema::Payload::UserCreated, [](const auto& h) {
    return codec::build_user_created(h, {kU1,
                                         "alice",
                                         "Alice",
                                         schema::UserRole::Technician,
                                         {{schema::PolicyScope::Client, kC1.bytes()}},
                                         {"admin:root", ""}});
  });
  telemetry.send(5);
  const std::uint64_t stopped_controls = api.seq - 1;
  REQUIRE(wait_until([&] { return reader.state("RMM_CONTROL").messages == api.seq; }, 10s, 20ms));
  SUBCASE("the archive kept up: the range is recorded once, its control events folded") {
    telemetry.send(60);  // the stream keeps the last 40 messages
    const auto state = reader.state("RMM_EVENTS");
    REQUIRE(state.first_seq > folded + 1 + 18);  // every event published while it was stopped
    const std::uint64_t from = folded + 1, to = state.first_seq - 1;
    const std::uint64_t lost = to - from + 1 - stopped_controls;

    {
      auto p = start_projector(nats, pg_url, dir, 2, partitioned);
      REQUIRE_MESSAGE(
          wait_until(
              [&] { return folded_through(**conn) == static_cast<std::int64_t>(state.last_seq); },
              60s, 20ms),
          read_file(dir / "projector-2.log"));
      CHECK(p.terminate(10s) == 0);
    }
    const auto log = read_file(dir / "projector-2.log");
    CAPTURE(log);
    CHECK(log.find("msg=stream.control_events_lost") == std::string::npos);
    CHECK(log.find(fmt::format("msg=unit.loss_settled unit=core/ctl from={} to={}", from, to)) !=
          std::string::npos);
    CHECK(log.find(fmt::format("msg=stream.unit_range_deleted unit=core/p")) != std::string::npos);

    // Every unit moved over the range; the control plane is complete.
    CHECK(count(fmt::format("SELECT count(*) FROM projection_checkpoints WHERE projection LIKE "
                            "'core/%' AND stream_seq >= {} AND watermark >= {}",
                            to, state.last_seq)) == 17);
    CHECK(count("SELECT count(*) FROM clients") == 2);
    CHECK(count("SELECT count(*) FROM sites WHERE id = '" + kS1.str() + "'") == 1);
    CHECK(count("SELECT count(*) FROM users WHERE id = '" + kU1.str() + "'") == 1);
    CHECK(count(fmt::format("SELECT count(*) FROM audit_log WHERE stream_seq BETWEEN {} AND {}",
                            from, to)) == static_cast<std::int64_t>(stopped_controls));
    // Every event the stream still holds is applied.
    for (int a = 0; a < kAgents; ++a) {
      CHECK(count("SELECT last_seq FROM agents WHERE id = '" + Telemetry::agent(a).str() + "'") ==
            static_cast<std::int64_t>(telemetry.seqs[a]));
    }

    // One loss for the projection, whichever unit found it first; the telemetry counted lost.
    {
      pqxx::nontransaction tx(**conn);
      for (const auto& r : tx.exec("SELECT projection, from_seq, to_seq, count, recovered, reason "
                                   "FROM ops.stream_losses")) {
        MESSAGE(fmt::format("{} {}-{} count {} recovered {}: {}", r[0].as<std::string>(),
                            r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                            r[3].as<std::int64_t>(), r[4].as<std::int64_t>(),
                            r[5].as<std::string>()));
      }
    }
    CHECK(count("SELECT count(*) FROM ops.stream_losses") == 1);
    CHECK(count(fmt::format("SELECT count(*) FROM ops.stream_losses WHERE projection = 'core' AND "
                            "from_seq = {} AND to_seq = {} AND count = {} AND recovered = {} AND "
                            "reason LIKE 'found by unit core/%' AND acknowledged_at IS NULL",
                            from, to, lost, stopped_controls)) == 1);

    auto losses = projector_command(nats, pg_url, dir, "losses", {"losses"});
    CAPTURE(losses.out);
    CHECK(losses.status == 1);
    CHECK(losses.out.find(fmt::format("sequences {}-{} ({} events, besides {} control events "
                                      "recovered from the archive)",
                                      from, to, lost, stopped_controls)) != std::string::npos);
    CHECK(losses.out.find("1 stream loss not acknowledged") != std::string::npos);

    // A replay fills the same range from the same archive: the read models are equal.
    auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
    CAPTURE(verify.out);
    CHECK(verify.status == 0);
    CHECK(verify.out.find(" 0 differ") != std::string::npos);
  }

  SUBCASE("the archive lags: no unit passes the range before its control events are folded") {
    // The archive holds every control event so far and then refuses more (full, discard new).
    set_stream_limit(pub.js_->raw(), "RMM_CONTROL", static_cast<std::int64_t>(api.seq),
                     js_DiscardNew);
    telemetry.send(60);
    api.publish(schema::Payload::ClientRenamed, [](const auto& h) {
      return codec::build_client_renamed(h, {kC2, "Globex Corp", {"user:alice", ""}});
    });
    telemetry.send(8);
    const auto state = reader.state("RMM_EVENTS");
    REQUIRE(state.first_seq > folded + 1 + 18);
    const std::uint64_t from = folded + 1, to = state.first_seq - 1;
    const auto log_file = dir / "projector-2.log";
    auto p = start_projector(nats, pg_url, dir, 2, partitioned);
    // The archive cannot show it holds every control event up to the range's end.
    REQUIRE_MESSAGE(wait_until(
                        [&] {
                          return read_file(log_file).find("msg=stream.gap_deferred") !=
                                 std::string::npos;
                        },
                        30s, 50ms),
                    read_file(log_file));
    std::this_thread::sleep_for(1s);  // the partitions had time to go on, if they could
    // The partitions moved over the range (nothing of theirs to fold in it) and stop there: the
    // control unit's watermark is below it until it has folded the range's control events.
    CHECK(count(fmt::format("SELECT count(*) FROM projection_checkpoints WHERE projection LIKE "
                            "'core/%' AND stream_seq > {}",
                            to)) == 0);
    CHECK(count(fmt::format("SELECT watermark FROM projection_checkpoints WHERE projection = "
                            "'core/ctl'")) == static_cast<std::int64_t>(folded));
    CHECK(count("SELECT count(*) FROM clients") == 1);
    CHECK(folded_through(**conn) == static_cast<std::int64_t>(folded));

    set_stream_limit(pub.js_->raw(), "RMM_CONTROL", -1, js_DiscardNew);
    REQUIRE(wait_until([&] { return reader.state("RMM_CONTROL").messages == api.seq; }, 10s, 20ms));
    REQUIRE_MESSAGE(
        wait_until(
            [&] { return folded_through(**conn) == static_cast<std::int64_t>(state.last_seq); },
            60s, 20ms),
        read_file(log_file));
    CHECK(p.terminate(10s) == 0);
    CHECK(count("SELECT count(*) FROM clients WHERE name = 'Globex Corp'") == 1);
    CHECK(count("SELECT count(*) FROM users") == 1);
    CHECK(count(fmt::format("SELECT count(*) FROM ops.stream_losses WHERE from_seq = {} AND "
                            "to_seq = {} AND count = {} AND recovered = {}",
                            from, to, to - from + 1 - stopped_controls, stopped_controls)) == 1);
    auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
    CAPTURE(verify.out);
    CHECK(verify.status == 0);
    CHECK(verify.out.find(" 0 differ") != std::string::npos);
  }
}
