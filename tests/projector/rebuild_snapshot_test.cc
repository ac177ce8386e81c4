// Point-in-time read models (issue 8 §1) against the real nats-server, PostgreSQL and the
// rmm-projector and rmm-replay binaries: events are stored before and after a moment T; the live
// projector folds all of them; `rmm-projector rebuild --until T --schema NAME` (and `rmm-replay
// snapshot`) build a schema holding only the earlier ones (agents, metrics, alerts), the live
// schema is untouched, and a second run without --replace refuses.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <pqxx/nontransaction>
#include <thread>

#include "common/event_codec.h"
#include "common/pg.h"
#include "projector/rebuild/snapshot.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t kHotSamples = 7;  // one a minute at 95 % CPU: the cpu alert (5 min)

struct Run {
  std::optional<int> status;
  std::string log;
};

Run run_tool(const std::string& program, std::vector<std::string> args, const TempDir& dir,
             const std::string& name) {
  const auto log_file = dir / (name + ".log");
  auto p = Process::start({.program = std::string(RMM_BIN_DIR) + "/" + program,
                           .args = std::move(args),
                           .env = {},
                           .log_file = log_file});
  auto status = p.wait(60s);
  if (!status) p.kill9();
  std::ifstream in(log_file);
  return {status, std::string((std::istreambuf_iterator<char>(in)), {})};
}

// An agent that starts and reports `samples` hot metrics, one a minute of event time from `base`.
void publish_agent(Publisher& pub, const AgentId& agent, UnixNanos base, std::uint64_t first_seq,
                   std::uint64_t samples, bool started) {
  auto header = [&](std::uint64_t seq, UnixNanos at) {
    return codec::AgentEventHeader{EventId::generate(real_clock()), agent, AgentSeq{seq}, at};
  };
  std::uint64_t seq = first_seq;
  if (started) {
    pub.sync(codec::agent_event_subject(agent, schema::Payload::AgentStarted),
             codec::build_agent_started(header(seq, base), {.hostname = "snap-" + agent.str(),
                                                            .os_name = "Debian GNU/Linux",
                                                            .os_version = "12",
                                                            .agent_version = "0.1.0"}),
             codec::agent_msg_id(agent, AgentSeq{seq}));
    ++seq;
  }
  for (std::uint64_t i = 0; i < samples; ++i, ++seq) {
    const UnixNanos at = base + static_cast<UnixNanos>(seq - 1) * 60'000'000'000;
    pub.sync(codec::agent_event_subject(agent, schema::Payload::MetricsSample),
             codec::build_metrics(header(seq, at), {.cpu_percent = 95,
                                                    .memory_total_bytes = 8ull << 30,
                                                    .memory_used_bytes = 1ull << 30,
                                                    .memory_available_bytes = 4ull << 30}),
             codec::agent_msg_id(agent, AgentSeq{seq}));
  }
}

}  // namespace

TEST_CASE("rebuild --until builds the read models as of T into their own schema") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("snapshot"));
  TempDir dir("projector-snapshot");
  Publisher pub(nats);

  const AgentId early = AgentId::generate(real_clock());
  const AgentId late = AgentId::generate(real_clock());
  // Event times in the recent past: retention as of T keeps their day partitions.
  const UnixNanos base = real_clock().now() - 30LL * 60 * 1'000'000'000;
  publish_agent(pub, early, base, 1, kHotSamples, true);
  const std::uint64_t seq_before = pub.last_seq.load();
  // T with a fraction under 0.1 s: nats.c would send such a start time up to 0.9 s late.
  std::this_thread::sleep_for(20ms);
  UnixNanos t = real_clock().now();
  for (int i = 0; i < 400 && (t % 1'000'000'000 < 10'000'000 || t % 1'000'000'000 > 50'000'000);
       ++i) {
    std::this_thread::sleep_for(5ms);
    t = real_clock().now();
  }
  REQUIRE(t % 1'000'000'000 <= 50'000'000);
  std::this_thread::sleep_for(20ms);
  publish_agent(pub, late, base, 1, kHotSamples, true);
  publish_agent(pub, early, base, kHotSamples + 2, 2, false);  // two more samples of `early`
  const std::uint64_t seq_after = pub.last_seq.load();
  REQUIRE(seq_after == seq_before + kHotSamples + 1 + 2);

  {  // the sequence bound of a time
    auto conn = nats::Connection::connect(
        {.url = nats.url(), .creds_file = nats.services_creds().string(), .name = "snap-test"});
    REQUIRE(conn.has_value());
    using projector::rebuild::last_seq_at_or_before;
    CHECK(last_seq_at_or_before(**conn, "RMM_EVENTS", t).value().value == seq_before);
    CHECK(last_seq_at_or_before(**conn, "RMM_EVENTS", base).value().value == 0);
    CHECK(last_seq_at_or_before(**conn, "RMM_EVENTS", real_clock().now()).value().value ==
          seq_after);
  }

  auto projector = start_projector(nats, pg_url, dir, 1);
  auto conn = pg::connect(pg_url, {.attempts = 50});
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  auto count = [&](const std::string& sql) -> std::int64_t {
    try {
      return scalar(**conn, sql).value_or(-1);
    } catch (const std::exception&) {
      return -1;  // not migrated yet
    }
  };
  REQUIRE_MESSAGE(
      wait_until(
          [&] {
            return count(
                       "SELECT count(*) FROM projection_checkpoints WHERE "
                       "projection = 'core' AND stream_seq = " +
                       std::to_string(seq_after)) == 1;
          },
          30s, 20ms),
      "the live projector did not catch up; see " << (dir / "projector-1.log").string());
  auto live_counts = [&] {
    return std::tuple{count("SELECT count(*) FROM public.agents"),
                      count("SELECT count(*) FROM public.metrics"),
                      count("SELECT count(*) FROM public.alerts WHERE rule = 'cpu'")};
  };
  const auto live_before = live_counts();
  REQUIRE(std::get<0>(live_before) == 2);
  REQUIRE(std::get<1>(live_before) == static_cast<std::int64_t>(2 * kHotSamples + 2));
  REQUIRE(std::get<2>(live_before) == 2);

  const std::vector<std::string> servers{"--nats-url=" + nats.url(),
                                         "--nats-creds=" + nats.services_creds().string(),
                                         "--pg-url=" + pg_url};
  auto rebuild_until = [&](const std::string& until, const std::string& schema,
                           std::vector<std::string> extra, const std::string& name) {
    std::vector<std::string> args{"rebuild", "--until=" + until, "--schema=" + schema};
    args.insert(args.end(), servers.begin(), servers.end());
    args.insert(args.end(), extra.begin(), extra.end());
    return run_tool("rmm-projector", std::move(args), dir, name);
  };
  const std::string t_text = std::to_string(t);

  auto first = rebuild_until(t_text, "fleet_at_t", {}, "snapshot-1");
  CAPTURE(first.log);
  REQUIRE(first.status == 0);
  CHECK(first.log.find("snapshot fleet_at_t") != std::string::npos);
  CHECK(count("SELECT count(*) FROM fleet_at_t.agents") == 1);
  CHECK(count(fmt::format("SELECT count(*) FROM fleet_at_t.agents WHERE id = '{}'", early.str())) ==
        1);
  CHECK(count("SELECT count(*) FROM fleet_at_t.metrics") == static_cast<std::int64_t>(kHotSamples));
  CHECK(count(fmt::format("SELECT count(*) FROM fleet_at_t.alerts WHERE rule = 'cpu' AND "
                          "agent_id = '{}'",
                          early.str())) == 1);
  CHECK(count("SELECT count(*) FROM fleet_at_t.alerts") == 1);
  CHECK(count("SELECT stream_seq FROM fleet_at_t.projection_checkpoints WHERE projection = "
              "'core'") == static_cast<std::int64_t>(seq_before));
  CHECK(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'fleet_at_t' AND "
              "obj_description(oid, 'pg_namespace') LIKE 'rmm-snapshot until %'") == 1);
  // No scratch schema is left behind, and the live read models are as they were.
  CHECK(count("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rmm\\_snapshot\\_%'") == 0);
  CHECK(live_counts() == live_before);
  CHECK(count("SELECT stream_seq FROM public.projection_checkpoints WHERE projection = 'core'") ==
        static_cast<std::int64_t>(seq_after));

  // Again without --replace: refused, and the snapshot stays as it was.
  auto again = rebuild_until("now", "fleet_at_t", {}, "snapshot-2");
  CAPTURE(again.log);
  CHECK(again.status == 2);
  CHECK(again.log.find("--replace") != std::string::npos);
  CHECK(count("SELECT count(*) FROM fleet_at_t.agents") == 1);

  // With --replace, a later moment: both agents.
  auto replaced = rebuild_until("now", "fleet_at_t", {"--replace"}, "snapshot-3");
  CAPTURE(replaced.log);
  REQUIRE(replaced.status == 0);
  CHECK(count("SELECT count(*) FROM fleet_at_t.agents") == 2);
  CHECK(count("SELECT count(*) FROM fleet_at_t.metrics") ==
        static_cast<std::int64_t>(2 * kHotSamples + 2));

  // Names that would collide with the live read models or the API's schema, and a schema that
  // is not a snapshot, are refused even with --replace.
  for (const char* name : {"public", "auth", "rmm_rebuild_1"}) {
    auto r = rebuild_until(t_text, name, {"--replace"}, fmt::format("refused-{}", name));
    CAPTURE(r.log);
    CHECK(r.status == 2);
  }
  {
    pqxx::nontransaction tx(**conn);
    tx.exec0("CREATE SCHEMA scratchpad");
    tx.exec0("CREATE TABLE scratchpad.mine (x int)");
  }
  auto not_snapshot = rebuild_until(t_text, "scratchpad", {"--replace"}, "refused-scratchpad");
  CAPTURE(not_snapshot.log);
  CHECK(not_snapshot.status == 2);
  CHECK(count("SELECT count(*) FROM scratchpad.mine") == 0);
  // --until belongs to rebuild; --schema needs --until.
  CHECK(run_tool("rmm-projector", {"verify", "--until=now", "--schema=x"}, dir, "usage-1").status ==
        2);
  CHECK(run_tool("rmm-projector", {"rebuild", "--schema=x"}, dir, "usage-2").status == 2);

  // The analyst's command: the same replay, in-process in rmm-replay.
  std::vector<std::string> args{"snapshot", "--until=" + t_text, "--schema=fleet_replay"};
  args.insert(args.end(), servers.begin(), servers.end());
  auto replayed = run_tool("rmm-replay", args, dir, "replay-snapshot");
  CAPTURE(replayed.log);
  REQUIRE(replayed.status == 0);
  CHECK(count("SELECT count(*) FROM fleet_replay.agents") == 1);
  CHECK(count("SELECT count(*) FROM fleet_replay.metrics") ==
        static_cast<std::int64_t>(kHotSamples));
  CHECK(count("SELECT count(*) FROM fleet_replay.alerts") == 1);
  CHECK(run_tool("rmm-replay", args, dir, "replay-snapshot-again").status == 2);
  CHECK(live_counts() == live_before);

  projector.terminate();
}
