// The projector under SIGKILL (issue 4 §6): while a publisher thread keeps filling RMM_EVENTS
// with the events of many agents (interleaved, so out of order across agents), stale re-sends
// beyond the dedupe window, in-window duplicates and poison, the projector is killed at random
// points at least ten times and restarted; a `rebuild` swaps the read models while it runs; after
// it drains, `rmm-projector verify` (a clean replay compared by row checksums) finds them equal,
// and the per-agent counts match what was published exactly once.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <pqxx/nontransaction>
#include <random>
#include <thread>

#include "common/event_codec.h"
#include "common/pg.h"
#include "tests/fixtures/postgres.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

constexpr int kAgents = 40;
constexpr int kKills = 10;
// Shorter than the default (30 days), which is also how far before its stream time an event may
// be dated (projector/folds/event_time.h): samples dated 40 days ago land 30 days back, past it.
const std::string kRetention = "--metrics-retention=20d";
// Paced so the stream keeps growing while the projector (a Debug or sanitizer build) keeps up.
constexpr auto kPublishPause = 2ms;
constexpr int kEventsPerPause = 3;

// What the publisher sent, per agent, that must be applied exactly once.
struct AgentTally {
  AgentId id;
  std::uint64_t ordered_seq = 0;   // AgentStarted + MetricsSamples
  std::uint64_t presence_seq = 0;  // heartbeats
  std::int64_t metrics = 0;
};

class LoadPublisher {
 public:
  explicit LoadPublisher(const NatsServerFixture& nats) : pub_(nats), rng_(20261127) {
    for (int i = 0; i < kAgents; ++i) agents_.push_back({.id = AgentId::generate(real_clock())});
  }
  ~LoadPublisher() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<AgentTally>& agents() const { return agents_; }
  int poison() const { return poison_; }
  int failures() const { return failures_.load(); }
  Publisher& publisher() { return pub_; }

 private:
  void send(const std::string& subject, const std::vector<std::uint8_t>& bytes,
            const std::string& msg_id) {
    if (auto st = pub_.js_->publish_async(subject, bytes, msg_id); !st) ++failures_;
  }

  void one_event() {
    auto& a = agents_[std::uniform_int_distribution<int>(0, kAgents - 1)(rng_)];
    const UnixNanos now = real_clock().now();
    const int kind = std::uniform_int_distribution<int>(0, 99)(rng_);
    if (a.ordered_seq == 0) {
      ++a.ordered_seq;
      codec::AgentEventHeader h{EventId::generate(real_clock()), a.id, AgentSeq{a.ordered_seq},
                                now};
      send(codec::agent_event_subject(a.id, schema::Payload::AgentStarted),
           codec::build_agent_started(h, {.hostname = "crash-" + a.id.str().substr(30),
                                          .os_name = "Debian GNU/Linux",
                                          .os_version = "12",
                                          .agent_version = "0.1.0"}),
           codec::agent_msg_id(a.id, AgentSeq{a.ordered_seq}));
    } else if (kind < 45) {
      ++a.presence_seq;
      codec::AgentEventHeader h{EventId::generate(real_clock()), a.id, AgentSeq{a.presence_seq},
                                now, schema::Lane::Presence};
      send(codec::agent_event_subject(a.id, schema::Payload::Heartbeat),
           codec::build_heartbeat(h, {.agent_version = "0.1.0", .uptime_s = a.presence_seq}),
           fmt::format("{}:hb:{}", a.id.str(), a.presence_seq));
    } else if (kind < 95) {
      ++a.ordered_seq;
      ++a.metrics;
      codec::AgentEventHeader h{EventId::generate(real_clock()), a.id, AgentSeq{a.ordered_seq},
                                now};
      codec::MetricsInfo m{.cpu_percent = static_cast<float>(a.ordered_seq % 100),
                           .memory_total_bytes = 8ull << 30,
                           .memory_used_bytes = (1ull << 30) + a.ordered_seq,
                           .memory_available_bytes = 4ull << 30,
                           .load1 = 0.5f,
                           .load5 = 0.25f,
                           .load15 = 0.125f};
      // Every third sample carries the json lists (with strings that need escaping), so verify
      // also compares the list columns a rebuild writes with the live ones; one in 30 sends an
      // empty list.
      if (a.ordered_seq % 3 == 0) {
        const bool empty = a.ordered_seq % 30 == 0;
        const std::uint64_t n = a.ordered_seq;
        m.filesystems = std::vector<codec::FilesystemInfo>{};
        m.temperatures = std::vector<codec::TemperatureInfo>{};
        m.disks = std::vector<codec::DiskIoInfo>{};
        m.network = std::vector<codec::NetIoInfo>{};
        if (!empty) {
          m.filesystems->push_back({"/", "ext4", "/dev/vda1", n, 1000 + n, 3, 4});
          m.filesystems->push_back({"/mnt/a \"b\\c\t", "vfat", "d", 5, 6, 7, 8});
          m.temperatures->push_back(
              {"coretemp", "Package id 0", 40.5f + static_cast<float>(n % 7)});
          m.disks->push_back({"vda", n, n, n * 512, n * 512, n});
          m.network->push_back({"eth0", n, n, 0, 0, n, n, 0, 1});
        }
      }
      auto bytes = codec::build_metrics(h, m);
      send(codec::agent_event_subject(a.id, schema::Payload::MetricsSample), bytes,
           codec::agent_msg_id(a.id, AgentSeq{a.ordered_seq}));
      last_metrics_[a.id.str()] = bytes;
      if (kind == 94) {
        // The same message again inside the dedupe window: the server drops it.
        send(codec::agent_event_subject(a.id, schema::Payload::MetricsSample), bytes,
             codec::agent_msg_id(a.id, AgentSeq{a.ordered_seq}));
      }
    } else if (kind < 98) {
      // A re-send beyond the dedupe window (a new msg id): stored, skipped by the sequence check.
      auto it = last_metrics_.find(a.id.str());
      if (it != last_metrics_.end()) {
        send(codec::agent_event_subject(a.id, schema::Payload::MetricsSample), it->second,
             fmt::format("{}:resend:{}", a.id.str(), ++resends_));
      }
    } else {
      ++poison_;
      std::vector<std::uint8_t> garbage(48, static_cast<std::uint8_t>(poison_));
      send(partition_subject(a.id, "metrics"), garbage, fmt::format("poison-{}", poison_));
    }
  }

  void run() {
    while (!stop_.load()) {
      for (int i = 0; i < kEventsPerPause; ++i) one_event();
      std::this_thread::sleep_for(kPublishPause);
    }
  }

  Publisher pub_;
  std::mt19937 rng_;
  std::vector<AgentTally> agents_;
  std::map<std::string, std::vector<std::uint8_t>> last_metrics_;
  int poison_ = 0;
  int resends_ = 0;
  std::atomic<int> failures_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// rmm-projector <command> on the same servers; its exit status (nullopt: still running at the
// deadline) and its log.
std::pair<std::optional<int>, std::string> run_command(const NatsServerFixture& nats,
                                                       const std::string& pg_url,
                                                       const TempDir& dir, const std::string& cmd,
                                                       int n) {
  const auto log_file = dir / fmt::format("{}-{}.log", cmd, n);
  auto p = Process::start(
      {.program = std::string(RMM_BIN_DIR) + "/rmm-projector",
       .args = {cmd, "--nats-url=" + nats.url(), "--nats-creds=" + nats.services_creds().string(),
                "--pg-url=" + pg_url, "--rebuild-batch-size=2000", kRetention},
       .env = {},
       .log_file = log_file});
  auto status = p.wait(60s);
  if (!status) p.kill9();
  std::ifstream in(log_file);
  return {status, std::string((std::istreambuf_iterator<char>(in)), {})};
}

std::int64_t checkpoint_or_zero(pqxx::connection& conn) {
  try {
    return checkpoint(conn);
  } catch (const std::exception&) {
    return 0;  // not migrated yet
  }
}

}  // namespace

TEST_CASE("SIGKILLed at random points under load, the projector ends equal to a clean rebuild") {
  NatsServerFixture nats;
  auto& pg = PostgresFixture::shared();
  auto pg_url = pg.create_database(pg.unique_name("crash"));
  TempDir dir("projector-crash");
  auto conn = pg::connect(pg_url);
  REQUIRE(conn.has_value());

  LoadPublisher load(nats);
  // Samples from 40 days ago, dated 30 days ago (the event-time window): past metrics-retention
  // (20 days here). The rebuild drops their day partition again; verify leaves rows past
  // retention out, whichever side still has them.
  const AgentId old_agent = AgentId::generate(real_clock());
  const UnixNanos forty_days_ago = real_clock().now() - 40LL * 86'400 * 1'000'000'000;
  for (std::uint64_t seq = 1; seq <= 3; ++seq) {
    codec::AgentEventHeader h{EventId::generate(real_clock()), old_agent, AgentSeq{seq},
                              forty_days_ago + static_cast<UnixNanos>(seq) * 1'000'000'000};
    load.publisher().sync(codec::agent_event_subject(old_agent, schema::Payload::MetricsSample),
                          codec::build_metrics(h, {.cpu_percent = 1.0f}),
                          codec::agent_msg_id(old_agent, AgentSeq{seq}));
  }
  load.start();
  std::random_device rd;
  const unsigned seed = rd();
  INFO("kill timing seed " << seed);
  std::mt19937 rng(seed);
  std::vector<std::int64_t> at_kill;
  for (int run = 1; run <= kKills; ++run) {
    auto p = start_projector(nats, pg_url, dir, run, {kRetention});
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(300, 1500)(rng)));
    REQUIRE_MESSAGE(p.running(), "run " << run << " exited early; see " << dir.path());
    p.kill9();
    at_kill.push_back(checkpoint_or_zero(**conn));
  }
  CAPTURE(fmt::format("{}", fmt::join(at_kill, ",")));
  CHECK(at_kill.back() > 0);

  // A rebuild swaps the read models while the live projector folds the still-growing stream.
  auto live = start_projector(nats, pg_url, dir, kKills + 1, {kRetention});
  auto [rebuild_status, rebuild_log] = run_command(nats, pg_url, dir, "rebuild", 1);
  CAPTURE(rebuild_log);
  REQUIRE(rebuild_status == 0);
  CHECK(rebuild_log.find("rebuild.swapped") != std::string::npos);
  // The expired samples were not written as raw rows (no partition for their day, nor any
  // other past retention), but the hourly rollup, kept 400 days, still counts them.
  CHECK(scalar(**conn,
               "SELECT count(*) FROM pg_inherits WHERE inhparent = 'metrics'::regclass AND "
               "inhrelid::regclass::text < to_char(now() AT TIME ZONE 'UTC' - interval '20 days', "
               "'\"metrics_p\"YYYYMMDD')") == 0);
  CHECK(scalar(**conn, fmt::format("SELECT sum(samples) FROM metrics_hourly WHERE agent_id = '{}'",
                                   old_agent.str())) == 3);
  // The indexes deferred during the replay are back on every partition and valid.
  CHECK(scalar(**conn,
               "SELECT count(*) FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent "
               "WHERE p.relname = 'metrics' AND NOT EXISTS (SELECT 1 FROM pg_index i "
               "WHERE i.indrelid = h.inhrelid)") == 0);
  CHECK(scalar(**conn,
               "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
               "WHERE c.relname = 'metrics_agent_ts' AND i.indisvalid") == 1);

  load.stop();
  load.publisher().complete();
  REQUIRE(load.failures() == 0);
  const auto stream_last = static_cast<std::int64_t>(load.publisher().last_seq.load());
  bool drained = wait_until([&] { return checkpoint_or_zero(**conn) == stream_last; }, 60s, 20ms);
  REQUIRE_MESSAGE(drained, "checkpoint " << checkpoint_or_zero(**conn) << " of " << stream_last);
  CHECK(live.running());

  // Retention: the rebuilt schema kept the old agent's state but not its expired raw rows; the
  // live projector may have written them again after the swap (a late partition): drop them as
  // its upkeep would.
  CHECK(scalar(**conn,
               fmt::format("SELECT last_seq FROM agents WHERE id = '{}'", old_agent.str())) == 3);
  {
    pqxx::nontransaction tx(**conn);
    tx.exec("SELECT rmm_drop_partitions_before('{metrics}', now() - interval '20 days')");
  }
  CHECK(scalar(**conn, fmt::format("SELECT count(*) FROM metrics WHERE agent_id = '{}'",
                                   old_agent.str())) == 0);

  // The lists verify compares below are there, as the arrays the writer renders.
  CHECK(scalar(**conn,
               "SELECT count(*) FROM metrics WHERE filesystems::text LIKE "
               "'[[\"/\",\"ext4\",\"/dev/vda1\",%'") > 0);
  CHECK(scalar(**conn, "SELECT count(*) FROM metrics WHERE filesystems::text = '[]'") > 0);
  auto [verify_status, verify_log] = run_command(nats, pg_url, dir, "verify", 1);
  CAPTURE(verify_log);
  CHECK(verify_status == 0);
  CHECK(verify_log.find(fmt::format("verify at checkpoint {}: ", stream_last)) !=
        std::string::npos);

  // Exactly once, per agent: every event published once is applied once; re-sends and
  // in-window duplicates are not.
  std::int64_t metrics = 0;
  for (const auto& a : load.agents()) {
    auto row = [&](std::string_view column) {
      return scalar(**conn,
                    fmt::format("SELECT {} FROM agents WHERE id = '{}'", column, a.id.str()));
    };
    if (a.ordered_seq == 0) continue;
    CHECK(row("last_seq") == static_cast<std::int64_t>(a.ordered_seq));
    CHECK(row("last_presence_seq") == static_cast<std::int64_t>(a.presence_seq));
    CHECK(row("events_applied") == static_cast<std::int64_t>(a.ordered_seq + a.presence_seq));
    CHECK(scalar(**conn, fmt::format("SELECT count(*) FROM metrics WHERE agent_id = '{}'",
                                     a.id.str())) == a.metrics);
    metrics += a.metrics;
  }
  CHECK(metrics > 0);
  CHECK(scalar(**conn, "SELECT count(*) FROM dead_letters") == load.poison());
  CHECK(load.poison() > 0);

  // verify sees a difference: a changed row and a missing one.
  CHECK(live.terminate(10s) == 0);
  {
    pqxx::nontransaction tx(**conn);
    tx.exec("UPDATE agents SET hostname = 'tampered' WHERE id = (SELECT id FROM agents LIMIT 1)");
    tx.exec(
        "DELETE FROM metrics WHERE (agent_id, seq) = "
        "(SELECT agent_id, seq FROM metrics ORDER BY agent_id, seq LIMIT 1)");
  }
  auto [tampered_status, tampered_log] = run_command(nats, pg_url, dir, "verify", 2);
  CAPTURE(tampered_log);
  CHECK(tampered_status == 1);
  CHECK(tampered_log.find("table agents: ") != std::string::npos);
  CHECK(tampered_log.find("tampered") != std::string::npos);
  CHECK(tampered_log.find("table metrics: ") != std::string::npos);
}
