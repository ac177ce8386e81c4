// When the stream overflows (issue 13 §4.2): with a small max_msgs and discard old, events the
// projector has not folded yet are deleted while it is stopped. It warns while the unfolded part
// nears the limit; after the overflow it records the lost range durably (and keeps it across a
// rebuild), logs it at error level, `rmm-projector losses` shows it until acknowledged, and every
// event the stream still holds is applied.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "common/event_codec.h"
#include "common/pg.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

const AgentId kAgent = *AgentId::parse("0190a5c2-3333-7000-8000-0000000000d1");
constexpr std::int64_t kMaxMsgs = 60;

// Heartbeats of the ordered lane, agent sequences `from` .. `to`.
void publish(Publisher& pub, std::uint64_t from, std::uint64_t to) {
  for (std::uint64_t seq = from; seq <= to; ++seq) {
    pub.async(codec::agent_event_subject(kAgent, schema::Payload::Heartbeat),
              codec::build_heartbeat(e2e_header(kAgent, seq), {.agent_version = "0.1.0"}),
              codec::agent_msg_id(kAgent, AgentSeq{seq}));
  }
  pub.complete();
}

}  // namespace

TEST_CASE("a stream that overflowed while the projector was stopped: the loss is recorded") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("stream_loss"));
  TempDir dir("projector-loss");
  Publisher pub(nats);
  set_stream_limit(pub.js_->raw(), "RMM_EVENTS", kMaxMsgs, js_DiscardOld);
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());
  auto cp = [&] {
    try {
      return checkpoint(**conn);
    } catch (const std::exception&) {
      return std::int64_t{0};  // not migrated yet
    }
  };
  const std::vector<std::string> fast_checks{"--stream-check-interval=200ms"};

  // 20 events, all folded.
  publish(pub, 1, 20);
  {
    auto p = start_projector(nats, pg_url, dir, 1, fast_checks);
    REQUIRE(wait_until([&] { return cp() == 20; }, 30s, 20ms));
    CHECK(p.terminate(10s) == 0);
  }
  // 35 more while it is stopped: 35 unfolded of at most 60 kept (58 %), nothing deleted yet. The
  // projector warns when it starts, before it catches up.
  publish(pub, 21, 55);
  {
    auto p = start_projector(nats, pg_url, dir, 2, fast_checks);
    REQUIRE(wait_until([&] { return cp() == 55; }, 30s, 20ms));
    CHECK(p.terminate(10s) == 0);
    const auto log = read_file(dir / "projector-2.log");
    CAPTURE(log);
    CHECK(log.find("msg=stream.lag_near_limit") != std::string::npos);
    CHECK(log.find("lag_msgs=35 max_msgs=60 msgs_percent=58") != std::string::npos);
    CHECK(log.find("stream.events_lost") == std::string::npos);
  }
  auto none = projector_command(nats, pg_url, dir, "command-1", {"losses"});
  CHECK(none.status == 0);
  CHECK(none.out.find("no stream losses") != std::string::npos);

  // 100 more: the stream keeps 96..155, so 56..95 go before the projector saw them.
  publish(pub, 56, 155);
  REQUIRE(pub.last_seq.load() == 155);
  {
    auto p = start_projector(nats, pg_url, dir, 3, fast_checks);
    REQUIRE(wait_until([&] { return cp() == 155; }, 30s, 20ms));
    CHECK(p.terminate(10s) == 0);
  }
  const auto log = read_file(dir / "projector-3.log");
  CAPTURE(log);
  // Seen before it got there (the stream check at start), then recorded when passed over.
  CHECK(log.find("level=error component=projector msg=stream.unfolded_deleted stream=RMM_EVENTS "
                 "from=56 to=95 count=40") != std::string::npos);
  CHECK(log.find("level=error component=projector msg=stream.events_lost stream=RMM_EVENTS "
                 "from=56 to=95 count=40") != std::string::npos);
  CHECK(scalar(**conn,
               "SELECT count(*) FROM ops.stream_losses WHERE projection = 'core' AND stream = "
               "'RMM_EVENTS' AND from_seq = 56 AND to_seq = 95 AND count = 40 AND reason LIKE "
               "'below the stream''s first sequence 96%' AND acknowledged_at IS NULL") == 1);
  CHECK(scalar(**conn, "SELECT count(*) FROM ops.stream_losses") == 1);
  // Every event the stream still holds was applied; the agent's gap shows the lost ones.
  CHECK(scalar(**conn, "SELECT last_seq FROM agents") == 155);
  CHECK(scalar(**conn, "SELECT events_applied FROM agents") == 55 + 60);
  CHECK(scalar(**conn,
               "SELECT count(*) FROM agent_sequence_gaps WHERE from_seq = 56 AND "
               "to_seq = 95") == 1);

  auto listed = projector_command(nats, pg_url, dir, "command-2", {"losses"});
  CAPTURE(listed.out);
  CHECK(listed.status == 1);
  CHECK(listed.out.find("RMM_EVENTS sequences 56-95 (40 events) deleted before projection core "
                        "folded them") != std::string::npos);
  CHECK(listed.out.find("1 stream loss not acknowledged (40 events)") != std::string::npos);

  // A rebuild swaps the read-model schema; the record of the loss stays.
  auto rebuild = projector_command(nats, pg_url, dir, "command-3", {"rebuild"});
  CAPTURE(rebuild.out);
  CHECK(rebuild.status == 0);
  CHECK(scalar(**conn, "SELECT count(*) FROM ops.stream_losses WHERE acknowledged_at IS NULL") ==
        1);

  auto bad = projector_command(nats, pg_url, dir, "command-4", {"losses", "--acknowledge=x"});
  CHECK(bad.status == 2);
  auto ack = projector_command(nats, pg_url, dir, "command-5", {"losses", "--acknowledge=all"});
  CAPTURE(ack.out);
  CHECK(ack.status == 0);
  CHECK(ack.out.find("acknowledged 1 stream loss") != std::string::npos);
  CHECK(scalar(**conn,
               "SELECT count(*) FROM ops.stream_losses WHERE acknowledged_at IS NOT NULL "
               "AND acknowledged_by <> ''") == 1);
  auto after = projector_command(nats, pg_url, dir, "command-6", {"losses"});
  CHECK(after.status == 0);
  CHECK(after.out.find("no stream losses") != std::string::npos);
}
