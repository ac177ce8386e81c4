// What one agent can make the read models hold (issue 16, items 8 and 9), end to end through a
// real nats-server, PostgreSQL and the rmm-projector binary: event times are clamped around the
// stream's timestamp of the message, so a clock in the year 2262 creates no partition retention
// never reaches and does not keep the agent online; `verify` still finds the live read models
// equal to a replay (the clamp reads the log, not the projector's clock).
#include <doctest/doctest.h>

#include <limits>

#include "common/control_plane_events.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const AgentId kLiar = *AgentId::parse("0190a5c2-6666-7000-8000-0000000000a1");
const AgentId kHonest = *AgentId::parse("0190a5c2-6666-7000-8000-0000000000a2");
const AgentId kJumper = *AgentId::parse("0190a5c2-6666-7000-8000-0000000000a3");
const ControlSourceId kTicker = *ControlSourceId::parse("0190a5c2-6666-7000-8000-000000000301");

constexpr UnixNanos kSecond = 1'000'000'000;
// 2262-04-01 and 2200-01-01 UTC: far past anything retention or an offline check reaches.
constexpr UnixNanos k2262 = 9'222'076'800 * kSecond;
constexpr UnixNanos k2200 = 7'258'118'400 * kSecond;
constexpr UnixNanos k1980 = 315'532'800 * kSecond;

codec::AgentEventHeader at(const AgentId& agent, std::uint64_t seq, UnixNanos when) {
  return {.event_id = EventId::generate(real_clock()),
          .agent = agent,
          .seq = AgentSeq{seq},
          .occurred_at = when};
}

codec::MetricsInfo sample() {
  return {.cpu_percent = 5, .memory_total_bytes = 4'000, .memory_used_bytes = 1'000};
}

// Runs the projector until it has folded everything published so far.
void fold_all(const NatsServerFixture& nats, const std::string& pg_url, const TempDir& dir,
              pqxx::connection& conn, std::int64_t stream_last, int run) {
  auto projector = start_projector(nats, pg_url, dir, run);
  bool done = wait_until(
      [&] {
        try {
          return checkpoint(conn) == stream_last || !projector.running();
        } catch (const std::exception&) {
          return false;  // not migrated yet
        }
      },
      60s, 20ms);
  REQUIRE(done);
  CHECK(projector.terminate(10s) == 0);
  REQUIRE(checkpoint(conn) == stream_last);
}

}  // namespace

TEST_CASE("an agent's clock far off creates no far partitions and does not keep it online") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("bounds_time"));
  TempDir dir("projector");
  Publisher pub(nats);

  const UnixNanos before = real_clock().now();
  auto agent_event = [&](const AgentId& agent, std::uint64_t seq, schema::Payload type,
                         const std::vector<std::uint8_t>& bytes) {
    pub.sync(codec::agent_event_subject(agent, type), bytes,
             codec::agent_msg_id(agent, AgentSeq{seq}));
  };
  agent_event(kLiar, 1, schema::Payload::AgentStarted,
              codec::build_agent_started(at(kLiar, 1, k2200), {.hostname = "liar"}));
  agent_event(kLiar, 2, schema::Payload::MetricsSample,
              codec::build_metrics(at(kLiar, 2, k2262), sample()));
  agent_event(kLiar, 3, schema::Payload::MetricsSample,
              codec::build_metrics(at(kLiar, 3, k1980), sample()));
  // A heartbeat in the presence lane, dated 2200.
  auto hb = at(kLiar, 1, k2200);
  hb.lane = schema::Lane::Presence;
  pub.sync(codec::agent_event_subject(kLiar, schema::Payload::Heartbeat),
           codec::build_heartbeat(hb, {.agent_version = "9.9.9"}),
           fmt::format("{}:hb:1", kLiar.str()));
  agent_event(kHonest, 1, schema::Payload::MetricsSample,
              codec::build_metrics(at(kHonest, 1, before), sample()));
  // A sequence jump, the events it skipped, and a sequence no agent can have reached: the
  // skipped events are applied late, the impossible one is a dead letter.
  constexpr auto kImpossible = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  for (std::uint64_t seq : {std::uint64_t{1}, std::uint64_t{1'000}, std::uint64_t{2},
                            std::uint64_t{3}, kImpossible, std::uint64_t{4}}) {
    agent_event(kJumper, seq, schema::Payload::MetricsSample,
                codec::build_metrics(at(kJumper, seq, before), sample()));
  }
  // Garbage on the jumper's subject: dead letters with its id as their source.
  for (std::uint8_t i = 0; i < 3; ++i) {
    pub.sync(codec::agent_event_subject(kJumper, schema::Payload::Inventory), {0xde, 0xad, i},
             fmt::format("garbage-{}", i));
  }
  const UnixNanos after = real_clock().now();

  // A tick ten minutes later: the liar has been silent for longer than alert.offline.after_s
  // (120 s by default), whatever its clock said.
  const UnixNanos tick = after + 600 * kSecond;
  codec::ControlEventHeader th{.event_id = EventId::generate(real_clock()),
                               .source = kTicker,
                               .source_name = "ticker",
                               .seq = 1,
                               .occurred_at = tick};
  pub.sync(codec::control_event_subject(schema::Payload::ClockTick),
           codec::build_clock_tick(th, codec::ClockTickInfo{tick}), fmt::format("tick:{}", tick));

  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  fold_all(nats, pg_url, dir, **conn, static_cast<std::int64_t>(pub.last_seq.load()), 1);

  const auto liar = fmt::format("agent_id = '{}'", kLiar.str());
  const auto us = [](UnixNanos t) { return t / 1000; };
  const auto epoch_us = [&](std::string_view column, std::string_view table,
                            std::string_view where) {
    return scalar(**conn, fmt::format("SELECT (extract(epoch from {}) * 1000000)::bigint FROM {} "
                                      "WHERE {}",
                                      column, table, where));
  };
  // No partition for 2262, 2200 or 1980: only days around the stream's time.
  CHECK(scalar(**conn,
               "SELECT count(*) FROM pg_inherits WHERE inhparent = 'metrics'::regclass AND "
               "(inhrelid::regclass::text > to_char(now() + interval '3 days', "
               "'\"metrics_p\"YYYYMMDD') OR inhrelid::regclass::text < "
               "to_char(now() - interval '31 days', '\"metrics_p\"YYYYMMDD'))") == 0);
  CHECK(scalar(**conn,
               "SELECT count(*) FROM pg_inherits WHERE inhparent = 'metrics_hourly'::regclass "
               "AND inhrelid::regclass::text NOT BETWEEN to_char(now() - interval '32 days', "
               "'\"metrics_hourly_p\"YYYYMM') AND to_char(now() + interval '3 days', "
               "'\"metrics_hourly_p\"YYYYMM')") == 0);
  // The samples are dated inside the window around their stream time; the agent's own time is
  // kept beside the clamped one.
  auto future_ts = epoch_us("ts", "metrics", liar + " AND seq = 2");
  REQUIRE(future_ts.has_value());
  CHECK(*future_ts >= us(before) + 60'000'000);
  CHECK(*future_ts <= us(after) + 60'000'000);
  CHECK(epoch_us("agent_ts", "metrics", liar + " AND seq = 2") == us(k2262));
  auto past_ts = epoch_us("ts", "metrics", liar + " AND seq = 3");
  REQUIRE(past_ts.has_value());
  CHECK(*past_ts >= us(before) - 30LL * 86'400'000'000);
  CHECK(*past_ts <= us(after) - 30LL * 86'400'000'000);
  CHECK(epoch_us("agent_ts", "metrics", liar + " AND seq = 3") == us(k1980));
  // An honest clock is kept as it is.
  CHECK(epoch_us("ts", "metrics", fmt::format("agent_id = '{}'", kHonest.str())) == us(before));
  CHECK(scalar(**conn, fmt::format("SELECT count(*) FROM metrics WHERE agent_id = '{}' AND "
                                   "agent_ts IS NULL",
                                   kHonest.str())) == 1);

  // last_seen is at most a minute past the stream's time; the clock offset says by how much the
  // agent's clock is ahead.
  const auto id = fmt::format("id = '{}'", kLiar.str());
  auto last_seen = epoch_us("last_seen", "agents", id);
  REQUIRE(last_seen.has_value());
  CHECK(*last_seen <= us(after) + 60'000'000);
  auto offset = scalar(**conn, "SELECT clock_offset_ms FROM agents WHERE " + id);
  REQUIRE(offset.has_value());
  CHECK(*offset >= (k2200 - after) / 1'000'000 - 1);
  CHECK(*offset <= (k2200 - before) / 1'000'000 + 1);
  // So the tick ten minutes later finds it offline.
  CHECK(scalar(**conn,
               "SELECT count(*) FROM alerts WHERE rule = 'offline' AND status = 'active' "
               "AND " +
                   liar) == 1);

  const auto jumper = fmt::format("agent_id = '{}'", kJumper.str());
  CHECK(scalar(**conn, "SELECT count(*) FROM metrics WHERE " + jumper) == 5);
  CHECK(scalar(**conn, fmt::format("SELECT last_seq FROM agents WHERE id = '{}'", kJumper.str())) ==
        1'000);
  CHECK(scalar(**conn, "SELECT from_seq * 10000 + to_seq FROM agent_sequence_gaps WHERE " +
                           jumper) == 5 * 10'000 + 999);
  CHECK(scalar(**conn, fmt::format("SELECT count(*) FROM dead_letters WHERE source = '{}' AND "
                                   "stored_at BETWEEN now() - interval '10 minutes' AND now()",
                                   kJumper.str())) == 4);
  CHECK(scalar(**conn, fmt::format("SELECT stored FROM dead_letter_hours WHERE source = '{}'",
                                   kJumper.str())) == 4);

  // A replay dates every event from the same stream timestamps: equal read models.
  auto verify = projector_command(nats, pg_url, dir, "verify", {"verify"});
  INFO(verify.out);
  CHECK(verify.status == 0);
  CHECK(verify.out.find(" 0 differ") != std::string::npos);
}
