// The telemetry and command writers against a real PostgreSQL: day partitions (on demand, ahead,
// retention), COPY rows, rollups, latest state, inventory, commands from out-of-order chunks,
// sequence gaps and the presence lane.
#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "common/command_codec.h"
#include "common/event_codec.h"
#include "common/pg.h"
#include "projector/db/batch_writer.h"
#include "projector/db/metrics_lists.h"
#include "projector/db/migrations.h"
#include "projector/db/sql_text.h"
#include "tests/fixtures/postgres.h"

using namespace rmm;
using namespace rmm::projector;
using namespace std::chrono_literals;

namespace {

const AgentId kA = *AgentId::parse("0190a5c2-0000-7000-8000-0000000000a1");
const AgentId kB = *AgentId::parse("0190a5c2-0000-7000-8000-0000000000b2");
const CommandId kCommand = *CommandId::parse("0190a5c2-0000-7000-8000-0000000000c1");
constexpr UnixNanos kDay = 86'400'000'000'000;
// 2024-03-10 12:00:00 UTC.
constexpr UnixNanos kNoon = 1'710'072'000'000'000'000;

struct Db {
  // A fresh database with every migration; with `stop_before` ("0006"), only the migrations whose
  // files sort before it (a database of an older release) until migrate() applies the rest.
  explicit Db(std::string_view prefix, std::string_view stop_before = {}) {
    auto& pg = test::PostgresFixture::shared();
    auto c = pg::connect(pg.create_database(pg.unique_name(prefix)));
    REQUIRE_MESSAGE(c.has_value(), c.error().message);
    conn = std::move(*c);
    if (stop_before.empty()) {
      migrate();
      return;
    }
    namespace fs = std::filesystem;
    const fs::path old_dir =
        fs::temp_directory_path() / pg.unique_name(fmt::format("rmm_migrations_{}", stop_before));
    fs::create_directories(old_dir);
    for (const auto& e : fs::directory_iterator(RMM_MIGRATIONS_SOURCE_DIR)) {
      const auto name = e.path().filename().string();
      if (name.ends_with(".sql") && name < stop_before) fs::copy_file(e.path(), old_dir / name);
    }
    auto m = db::apply_migrations(*conn, old_dir);
    fs::remove_all(old_dir);
    REQUIRE_MESSAGE(m.has_value(), m.error().message);
  }
  void migrate() {
    auto m = db::apply_migrations(*conn, RMM_MIGRATIONS_SOURCE_DIR);
    REQUIRE_MESSAGE(m.has_value(), m.error().message);
    writer = std::make_unique<db::BatchWriter>(*conn);
  }
  pqxx::result query(const std::string& sql) {
    pqxx::nontransaction tx(*conn);
    return tx.exec(sql);
  }
  std::int64_t scalar(const std::string& sql) { return query(sql)[0][0].as<std::int64_t>(); }
  std::string text(const std::string& sql) { return query(sql)[0][0].as<std::string>(); }
  db::BatchStats write(std::vector<BatchItem> items) {
    auto stats = writer->write(items);
    REQUIRE_MESSAGE(stats.has_value(), stats.error().message);
    return *stats;
  }
  std::set<std::string> partitions(std::string_view parent) {
    std::set<std::string> out;
    for (const auto& r : query(fmt::format(
             "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
             "WHERE i.inhparent = '{}'::regclass",
             parent))) {
      out.insert(r[0].as<std::string>());
    }
    return out;
  }

  std::unique_ptr<pqxx::connection> conn;
  std::unique_ptr<db::BatchWriter> writer;
  std::uint64_t next_stream_seq = 1;
};

codec::AgentEventHeader header(const AgentId& agent, std::uint64_t seq, UnixNanos at) {
  FakeClock clock;
  return {.event_id = EventId::generate(clock),
          .agent = agent,
          .seq = AgentSeq{seq},
          .occurred_at = at};
}

BatchItem item(Db& db, const AgentId& agent, schema::Payload type,
               const std::vector<std::uint8_t>& bytes) {
  auto subject = fmt::format("rmm.p.1.evt.{}.{}", agent.str(), codec::event_type_token(type));
  return {StreamSeq{db.next_stream_seq++}, decode_message(subject, bytes)};
}

BatchItem sample(Db& db, const AgentId& agent, std::uint64_t seq, UnixNanos at, float cpu,
                 bool with_lists = true) {
  codec::MetricsInfo m{.cpu_percent = cpu,
                       .memory_total_bytes = 1000,
                       .memory_used_bytes = static_cast<std::uint64_t>(cpu * 10)};
  if (with_lists) {
    m.filesystems = std::vector<codec::FilesystemInfo>{{"/", "ext4", "/dev/sda1", 1, 2, 3, 4},
                                                       {"/boot", "vfat", "/dev/sda2", 5, 6, 7, 8}};
    m.disks = std::vector<codec::DiskIoInfo>{{"sda", seq, seq, seq, seq, seq}};
    m.network = std::vector<codec::NetIoInfo>{{"eth0", seq, 0, 0, 0, seq, 0, 0, 0}};
    m.temperatures = std::vector<codec::TemperatureInfo>{{"coretemp", "Package id 0", 41.5f}};
    m.top_processes = std::vector<codec::ProcessInfo>{
        {1, "init", "root", 0.5f, 100, "/sbin/init"},
        {static_cast<std::uint32_t>(1000 + seq), "worker", "app", cpu, 200, "worker --x"},
        {1, "init", "root", 0.5f, 100, "/sbin/init"}};  // a duplicate pid must not fail the batch
  }
  return item(db, agent, schema::Payload::MetricsSample,
              codec::build_metrics(header(agent, seq, at), m));
}

}  // namespace

TEST_CASE("one metrics row per sample, COPYed into its day partition, created on demand") {
  Db db("tel_copy");
  CHECK(db.partitions("metrics").empty());
  auto stats = db.write({sample(db, kA, 1, kNoon, 10), sample(db, kA, 2, kNoon + kDay, 20),
                         sample(db, kB, 1, kNoon + kDay + 1, 30)});
  CHECK(stats.applied == 3);
  CHECK(stats.metric_samples == 3);
  CHECK(db.partitions("metrics") ==
        std::set<std::string>{"metrics_p20240310", "metrics_p20240311"});
  CHECK(db.partitions("metrics_hourly") == std::set<std::string>{"metrics_hourly_p202403"});
  CHECK(db.scalar("SELECT count(*) FROM metrics_p20240310") == 1);
  CHECK(db.scalar("SELECT count(*) FROM metrics_p20240311") == 2);
  // The per-item tables of migration 0003 are views over the json columns now.
  CHECK(db.scalar("SELECT count(*) FROM pg_class WHERE relname IN ('metrics_filesystems', "
                  "'metrics_disks', 'metrics_net', 'metrics_temperatures') AND relkind = 'v'") ==
        4);
  CHECK(db.scalar("SELECT count(*) FROM metrics_filesystems WHERE ts >= '2024-03-11'") == 4);
  CHECK(db.scalar("SELECT count(*) FROM metrics_disks") == 3);
  CHECK(db.scalar("SELECT count(*) FROM metrics_temperatures") == 3);
  CHECK(db.text(fmt::format("SELECT string_agg(name || ':' || rx_bytes || ':' || tx_bytes, ',' "
                            "ORDER BY ts) FROM metrics_net WHERE agent_id = '{}'",
                            kA.str())) == "eth0:1:1,eth0:2:2");
  CHECK(db.text(fmt::format("SELECT ts::text || ' ' || seq || ' ' || stream_seq || ' ' || "
                            "cpu_percent FROM metrics WHERE agent_id = '{}' AND seq = 1",
                            kA.str())) == "2024-03-10 12:00:00+00 1 1 10");
  CHECK(db.text(fmt::format("SELECT string_agg(mount || ':' || used_bytes, ',' ORDER BY mount) "
                            "FROM metrics_filesystems WHERE agent_id = '{}'",
                            kB.str())) == "/:1,/boot:5");
  // The stored text is exactly what the projector rendered (a rebuild writes the same bytes):
  // each item the array of its values, in the field order of migration 0008.
  CHECK(db.text(fmt::format("SELECT filesystems::text || temperatures::text || disks::text "
                            "FROM metrics WHERE agent_id = '{}' AND seq = 1",
                            kA.str())) ==
        R"([["/","ext4","/dev/sda1",1,2,3,4],["/boot","vfat","/dev/sda2",5,6,7,8]])"
        R"([["coretemp","Package id 0",41.5]])"
        R"([["sda",1,1,1,1,1]])");
  CHECK(db.text(fmt::format("SELECT net::text FROM metrics WHERE agent_id = '{}' AND seq = 2",
                            kA.str())) == R"([["eth0",2,0,0,0,2,0,0,0]])");

  // A sample without lists: NULL, not an empty list.
  db.write({sample(db, kB, 2, kNoon + kDay + 2, 40, false)});
  CHECK(db.scalar(fmt::format("SELECT count(*) FROM metrics WHERE agent_id = '{}' AND seq = 2 "
                              "AND filesystems IS NULL AND disks IS NULL AND net IS NULL "
                              "AND temperatures IS NULL",
                              kB.str())) == 1);

  // A re-sent sample (same agent seq) adds no row anywhere.
  auto again = db.write({sample(db, kA, 2, kNoon + kDay, 99)});
  CHECK(again.duplicates == 1);
  CHECK(db.scalar("SELECT count(*) FROM metrics") == 4);
  CHECK(db.scalar("SELECT count(*) FROM metrics_filesystems") == 6);
}

TEST_CASE("agent strings with COPY and JSON specials reach the json columns intact") {
  Db db("tel_copy_escape");
  codec::MetricsInfo m{.cpu_percent = 1e-05f, .memory_total_bytes = 1, .memory_used_bytes = 1};
  const std::string hostile = "tab\there\\back\"quote\nnew\\N";
  m.filesystems = std::vector<codec::FilesystemInfo>{{hostile, "ext4", "\\", 1, 2, 3, 4}};
  m.temperatures = std::vector<codec::TemperatureInfo>{{"c", "é\r", -0.5f}};
  db.write({item(db, kA, schema::Payload::MetricsSample,
                 codec::build_metrics(header(kA, 1, kNoon), m))});
  auto r = db.query(
      "SELECT f.mount, f.device, t.label, t.celsius::text, m.cpu_percent::text FROM metrics m, "
      "metrics_filesystems f, metrics_temperatures t");
  REQUIRE(r.size() == 1);
  CHECK(r[0][0].as<std::string>() == hostile);
  CHECK(r[0][1].as<std::string>() == "\\");
  CHECK(r[0][2].as<std::string>() == "é\r");
  CHECK(r[0][3].as<std::string>() == "-0.5");
  CHECK(r[0][4].as<std::string>() == "1e-05");
  // Control characters as \u escapes, quotes and backslashes escaped, the rest as sent.
  CHECK(db.text("SELECT filesystems::text || temperatures::text FROM metrics") ==
        R"([["tab\u0009here\\back\"quote\u000anew\\N","ext4","\\",1,2,3,4]])"
        R"([["c","é\u000d",-0.5]])");
}

TEST_CASE("partitions ahead of time, and retention drops whole old partitions only") {
  Db db("tel_retention");
  auto& parts = db.writer->partitions();
  REQUIRE(parts.ensure_around(kNoon).has_value());
  CHECK(db.partitions("metrics") == std::set<std::string>{"metrics_p20240308", "metrics_p20240309",
                                                          "metrics_p20240310", "metrics_p20240311",
                                                          "metrics_p20240312"});
  // Old data: 40 and 31 days back (expired at 30 d), 29 days back (kept).
  db.write({sample(db, kA, 1, kNoon - 40 * kDay, 1), sample(db, kA, 2, kNoon - 31 * kDay, 2),
            sample(db, kA, 3, kNoon - 29 * kDay, 3), sample(db, kA, 4, kNoon, 4)});
  REQUIRE(db.scalar("SELECT count(*) FROM metrics") == 4);
  REQUIRE(db.partitions("metrics_hourly").size() == 3);  // January, February, March

  auto report = parts.apply_retention(kNoon, std::chrono::days(30), std::chrono::days(400));
  REQUIRE_MESSAGE(report.has_value(), report.error().message);
  CHECK(report->raw_dropped == 2);  // two day partitions of `metrics`
  CHECK(report->rollup_dropped == 0);
  CHECK(db.scalar("SELECT count(*) FROM metrics") == 2);
  CHECK(db.scalar("SELECT min(seq) FROM metrics") == 3);
  CHECK(db.scalar("SELECT count(*) FROM metrics_filesystems") == 4);
  CHECK(db.scalar("SELECT count(*) FROM metrics_hourly") == 4);  // rollups outlive raw rows
  CHECK_FALSE(db.partitions("metrics").contains("metrics_p20240130"));
  CHECK(db.partitions("metrics").contains("metrics_p20240210"));

  // Rollups keep 400 days by default; a short rollup retention drops whole months.
  auto rollups = parts.apply_retention(kNoon, std::chrono::days(30), std::chrono::days(20));
  REQUIRE(rollups.has_value());
  CHECK(rollups->rollup_dropped == 1);  // January ended more than 20 days ago; February did not
  CHECK(db.partitions("metrics_hourly") ==
        std::set<std::string>{"metrics_hourly_p202402", "metrics_hourly_p202403"});

  // A late sample on a dropped day creates its partition again instead of failing the batch.
  auto late = db.write({sample(db, kB, 1, kNoon - 40 * kDay, 5)});
  CHECK(late.applied == 1);
  CHECK(db.partitions("metrics").contains("metrics_p20240130"));
}

TEST_CASE("hourly rollups add up across batches") {
  Db db("tel_rollup");
  db.write(
      {sample(db, kA, 1, kNoon, 10, false), sample(db, kA, 2, kNoon + 60'000'000'000, 30, false)});
  db.write({sample(db, kA, 3, kNoon + 120'000'000'000, 20, false),
            sample(db, kA, 4, kNoon + 3'600'000'000'000, 50, false)});
  auto r = db.query(
      "SELECT samples, cpu_avg, cpu_max, mem_used_avg, mem_used_max, "
      "to_char(hour AT TIME ZONE 'UTC', 'HH24') FROM metrics_hourly_avg "
      "ORDER BY hour");
  REQUIRE(r.size() == 2);
  CHECK(r[0][0].as<int>() == 3);
  CHECK(r[0][1].as<double>() == doctest::Approx(20.0));
  CHECK(r[0][2].as<double>() == doctest::Approx(30.0));
  CHECK(r[0][3].as<std::int64_t>() == 200);
  CHECK(r[0][4].as<std::int64_t>() == 300);
  CHECK(r[0][5].as<std::string>() == "12");
  CHECK(r[1][0].as<int>() == 1);
  CHECK(r[1][5].as<std::string>() == "13");
  CHECK(db.scalar("SELECT mem_percent_sum::bigint FROM metrics_hourly ORDER BY hour LIMIT 1") ==
        60);  // 10% + 30% + 20%
}

TEST_CASE("rollups summed per (agent, hour) in C++ equal PostgreSQL's numeric sum of the samples") {
  Db db("tel_rollup_exact");
  // Awkward values: many decimals, tiny and negative ones, and memory percentages with long
  // expansions (used / total * 100 as a double).
  const float cpus[] = {0.1f, 33.333332f, 1e-05f, 99.99999f, 12.5f, 0.0f, 7.3f};
  std::vector<BatchItem> items;
  for (std::uint64_t i = 0; i < std::size(cpus); ++i) {
    codec::MetricsInfo m{.cpu_percent = cpus[i],
                         .memory_total_bytes = 3'000'000'007,
                         .memory_used_bytes = 1'000'000'000 + i * 123'456'789};
    items.push_back(
        item(db, kA, schema::Payload::MetricsSample,
             codec::build_metrics(
                 header(kA, i + 1, kNoon + static_cast<UnixNanos>(i) * 60'000'000'000), m)));
  }
  // Two transactions: the sums are added to the stored row in between.
  db.write({items.begin(), items.begin() + 3});
  db.write({items.begin() + 3, items.end()});
  // The reference: PostgreSQL sums the same exact decimal texts of the raw rows.
  CHECK(db.text("SELECT cpu_sum::text FROM metrics_hourly") ==
        db.text("SELECT sum(cpu_percent::text::numeric)::text FROM metrics"));
  CHECK(db.text("SELECT cpu_max::text FROM metrics_hourly") ==
        db.text("SELECT max(cpu_percent::text::numeric)::real::text FROM metrics"));
  CHECK(db.text("SELECT mem_used_sum::text || '/' || mem_used_max FROM metrics_hourly") ==
        db.text("SELECT sum(mem_used_bytes)::text || '/' || max(mem_used_bytes) FROM metrics"));
  CHECK(db.scalar("SELECT samples FROM metrics_hourly") == 7);
  // Memory percent: within a rounding of the double per sample, with a display scale.
  CHECK(db.text("SELECT (abs(mem_percent_sum - (SELECT sum(mem_used_bytes * 100.0 / "
                "mem_total_bytes) FROM metrics)) < 1e-9)::text FROM metrics_hourly") == "true");
}

TEST_CASE("latest metrics and processes follow the newest applied sample") {
  Db db("tel_latest");
  db.write({sample(db, kA, 1, kNoon, 10), sample(db, kA, 2, kNoon + 1000, 20),
            sample(db, kB, 1, kNoon, 70)});
  CHECK(db.scalar("SELECT count(*) FROM agent_latest_metrics") == 2);
  CHECK(db.scalar(fmt::format("SELECT seq FROM agent_latest_metrics WHERE agent_id = '{}'",
                              kA.str())) == 2);
  CHECK(db.scalar(fmt::format("SELECT cpu_percent::int FROM agent_latest_metrics "
                              "WHERE agent_id = '{}'",
                              kA.str())) == 20);
  CHECK(db.text(fmt::format("SELECT filesystems->1->>'mount' FROM agent_latest_metrics "
                            "WHERE agent_id = '{}'",
                            kA.str())) == "/boot");
  CHECK(db.text(fmt::format("SELECT temperatures->0->>'celsius' FROM agent_latest_metrics "
                            "WHERE agent_id = '{}'",
                            kA.str())) == "41.5");
  CHECK(
      db.text(fmt::format("SELECT string_agg(p->>'pid', ',' ORDER BY (p->>'pid')::int) FROM "
                          "agent_processes, json_array_elements(processes) p WHERE agent_id = '{}'",
                          kA.str())) == "1,1002");

  // A sample without lists updates the figures, keeps the processes, and nulls the lists.
  db.write({sample(db, kA, 3, kNoon + 2000, 33, false)});
  CHECK(db.scalar(fmt::format("SELECT cpu_percent::int FROM agent_latest_metrics "
                              "WHERE agent_id = '{}'",
                              kA.str())) == 33);
  CHECK(db.scalar(fmt::format("SELECT count(*) FROM agent_latest_metrics WHERE agent_id = '{}' "
                              "AND filesystems IS NULL",
                              kA.str())) == 1);
  CHECK(db.scalar(fmt::format("SELECT json_array_length(processes) FROM agent_processes "
                              "WHERE agent_id = '{}'",
                              kA.str())) == 2);
  db.write({sample(db, kA, 4, kNoon + 3000, 44)});
  CHECK(
      db.text(fmt::format("SELECT string_agg(p->>'pid', ',' ORDER BY (p->>'pid')::int) FROM "
                          "agent_processes, json_array_elements(processes) p WHERE agent_id = '{}'",
                          kA.str())) == "1,1004");
}

TEST_CASE("inventory upsert: the latest document, and the summary on agents") {
  Db db("tel_inventory");
  codec::InventoryInfo inv;
  inv.hostname = "web-01";
  inv.os_pretty = "Debian GNU/Linux 12 (bookworm)";
  inv.cpu_model = "Xeon E5";
  inv.memory_total_bytes = 8ull << 30;
  inv.boot_time_ns = kNoon - kDay;
  inv.interfaces = {{"eth0", "52:54:00:00:00:01", {"10.0.0.5/24"}}};
  inv.package_manager = "dpkg";
  inv.packages = {{"bash", "5.2", "amd64"}, {"curl", "7.88", "amd64"}};
  inv.services = {{"ssh.service", "loaded", "active", "running"}};
  db.write({item(db, kA, schema::Payload::Inventory,
                 codec::build_inventory(header(kA, 1, kNoon), inv))});
  CHECK(db.scalar("SELECT package_count FROM agent_inventory") == 2);
  CHECK(db.text("SELECT packages->1->>'name' FROM agent_inventory") == "curl");
  CHECK(db.text("SELECT interfaces->0->'addresses'->>0 FROM agent_inventory") == "10.0.0.5/24");
  CHECK(db.text("SELECT services->0->>'sub' FROM agent_inventory") == "running");
  CHECK(db.text("SELECT boot_time::text FROM agent_inventory") == "2024-03-09 12:00:00+00");
  CHECK(db.text("SELECT os_pretty || '|' || cpu_model || '|' || memory_total_bytes FROM agents") ==
        "Debian GNU/Linux 12 (bookworm)|Xeon E5|" + std::to_string(8ull << 30));

  inv.packages = {{"bash", "5.3", "amd64"}};
  inv.packages_truncated = true;
  inv.os_pretty = "Debian GNU/Linux 13";
  db.write({item(db, kA, schema::Payload::Inventory,
                 codec::build_inventory(header(kA, 2, kNoon + 10), inv))});
  CHECK(db.scalar("SELECT count(*) FROM agent_inventory") == 1);
  CHECK(db.scalar("SELECT package_count FROM agent_inventory") == 1);
  CHECK(db.text("SELECT packages->0->>'version' FROM agent_inventory") == "5.3");
  CHECK(db.scalar("SELECT packages_truncated::int FROM agent_inventory") == 1);
  CHECK(db.text("SELECT os_pretty FROM agents") == "Debian GNU/Linux 13");
}

TEST_CASE("a command row is assembled from lifecycle events and out-of-order chunks") {
  Db db("tel_commands");
  auto ev = [&](std::uint64_t, schema::Payload type, std::vector<std::uint8_t> bytes) {
    return item(db, kA, type, bytes);
  };
  auto chunk = [&](std::uint64_t seq, std::uint32_t index, schema::OutputStream stream,
                   std::string_view text, bool truncated = false) {
    std::vector<std::uint8_t> data(text.begin(), text.end());
    return ev(seq, schema::Payload::CommandOutput,
              codec::build_command_output(
                  header(kA, seq, kNoon + static_cast<UnixNanos>(seq) * 1'000'000),
                  {.command = kCommand,
                   .stream = stream,
                   .chunk_index = index,
                   .offset = 0,
                   .data = data,
                   .truncated = truncated}));
  };
  using S = schema::OutputStream;
  // "é" split across two stdout chunks: the bytes are joined before they become text.
  db.write({ev(1, schema::Payload::CommandReceived,
               codec::build_command_received(header(kA, 1, kNoon + 1'000'000),
                                             {kCommand, "shell", "alice", 12})),
            ev(2, schema::Payload::CommandStarted,
               codec::build_command_started(header(kA, 2, kNoon + 2'000'000), kCommand, 777)),
            chunk(3, 2, S::Stdout, "\xA9 world\n"), chunk(4, 1, S::Stderr, "warn\n")});
  CHECK(db.text("SELECT status FROM commands") == "started");
  CHECK(db.text("SELECT stdout FROM commands") == "\xEF\xBF\xBD world\n");  // chunk 0 missing
  db.write(
      {chunk(5, 0, S::Stdout, "hello caf\xC3"), chunk(6, 3, S::Stdout, "bye", true),
       ev(7, schema::Payload::CommandCompleted,
          codec::build_command_completed(header(kA, 7, kNoon + 7'000'000),
                                         {.command = kCommand, .exit_code = 2})),
       ev(8, schema::Payload::CommandInterrupted,
          codec::build_command_interrupted(header(kA, 8, kNoon + 8'000'000), kCommand, "late"))});
  auto r = db.query(
      "SELECT status, kind, issuer, command_stream_seq, pid, exit_code, stdout, stderr, "
      "stdout_truncated, stderr_truncated, last_seq, received_at < started_at, "
      "started_at < finished_at, reason FROM commands");
  REQUIRE(r.size() == 1);
  CHECK(r[0][0].as<std::string>() == "completed");
  CHECK(r[0][1].as<std::string>() == "shell");
  CHECK(r[0][2].as<std::string>() == "alice");
  CHECK(r[0][3].as<int>() == 12);
  CHECK(r[0][4].as<int>() == 777);
  CHECK(r[0][5].as<int>() == 2);
  CHECK(r[0][6].as<std::string>() == "hello caf\xC3\xA9 world\nbye");
  CHECK(r[0][7].as<std::string>() == "warn\n");
  CHECK(r[0][8].as<bool>());
  CHECK_FALSE(r[0][9].as<bool>());
  CHECK(r[0][10].as<int>() == 8);
  CHECK(r[0][11].as<bool>());
  CHECK(r[0][12].as<bool>());
  CHECK(r[0][13].as<std::string>() == "late");
  CHECK(db.scalar("SELECT count(*) FROM command_output_chunks") == 4);

  // Another agent cannot write into this command.
  auto spoof = item(db, kB, schema::Payload::CommandOutput,
                    codec::build_command_output(header(kB, 1, kNoon), {.command = kCommand,
                                                                       .stream = S::Stdout,
                                                                       .chunk_index = 9,
                                                                       .offset = 0,
                                                                       .data = {},
                                                                       .truncated = false}));
  db.write({std::move(spoof)});
  CHECK(db.scalar("SELECT count(*) FROM command_output_chunks") == 4);
  CHECK(db.text("SELECT agent_id::text FROM commands") == kA.str());
}

TEST_CASE("sequence gaps are recorded per agent and never block") {
  Db db("tel_gaps");
  auto hb = [&](const AgentId& agent, std::uint64_t seq) {
    return item(
        db, agent, schema::Payload::Heartbeat,
        codec::build_heartbeat(header(agent, seq, kNoon + static_cast<UnixNanos>(seq)), {}));
  };
  db.write({hb(kA, 1), hb(kA, 2), hb(kA, 5), hb(kB, 3)});
  db.write({hb(kA, 6), hb(kA, 9), hb(kA, 4) /* late: fills a gap */});
  auto r = db.query(
      "SELECT agent_id::text, from_seq, to_seq, (extract(epoch FROM detected_at) * 1e9)::bigint "
      "FROM agent_sequence_gaps ORDER BY agent_id, from_seq");
  REQUIRE(r.size() == 3);
  CHECK(r[0][0].as<std::string>() == kA.str());
  CHECK(r[0][1].as<int>() == 3);
  CHECK(r[0][2].as<int>() == 3);  // 4 came late
  CHECK(r[0][3].as<std::int64_t>() / 1000 == (kNoon + 5) / 1000);
  CHECK(r[1][1].as<int>() == 7);
  CHECK(r[1][2].as<int>() == 8);
  CHECK(r[2][0].as<std::string>() == kB.str());
  CHECK(r[2][1].as<int>() == 1);
  CHECK(r[2][2].as<int>() == 2);
  CHECK(db.scalar(fmt::format("SELECT last_seq FROM agents WHERE id = '{}'", kA.str())) == 9);
}

TEST_CASE("a sequence jump loses no later event; an implausible one is dead-lettered") {
  Db db("tel_jumps");
  auto at = [](std::uint64_t seq) { return kNoon + static_cast<UnixNanos>(seq) * 1'000'000'000; };
  auto s = [&](const AgentId& agent, std::uint64_t seq, UnixNanos when) {
    return sample(db, agent, seq, when, 10, false);
  };
  // Agent A jumps from 5 to 1,000 (a bug, or an attacker with its key); its real events 6..10
  // follow, across two batches.
  db.write({s(kA, 1, at(1)), s(kA, 2, at(2)), s(kA, 5, at(5)), s(kA, 1'000, at(6)), s(kA, 6, at(7)),
            s(kA, 7, at(8))});
  auto second = db.write({s(kA, 8, at(9)), s(kA, 3, at(10)), s(kA, 10, at(11)), s(kA, 8, at(12))});
  CHECK(second.applied == 3);
  CHECK(second.filled == 3);
  CHECK(second.duplicates == 1);  // 8 again
  CHECK(db.scalar(fmt::format("SELECT count(*) FROM metrics WHERE agent_id = '{}'", kA.str())) ==
        9);
  CHECK(db.scalar(fmt::format("SELECT last_seq FROM agents WHERE id = '{}'", kA.str())) == 1'000);
  CHECK(db.scalar(fmt::format("SELECT events_applied FROM agents WHERE id = '{}'", kA.str())) == 9);
  // What is still missing: 4, 9 and 11..999.
  auto gaps = db.query(fmt::format(
      "SELECT from_seq, to_seq FROM agent_sequence_gaps WHERE agent_id = '{}' ORDER BY from_seq",
      kA.str()));
  REQUIRE(gaps.size() == 3);
  CHECK(gaps[0][0].as<int>() == 4);
  CHECK(gaps[0][1].as<int>() == 4);
  CHECK(gaps[1][0].as<int>() == 9);
  CHECK(gaps[1][1].as<int>() == 9);
  CHECK(gaps[2][0].as<int>() == 11);
  CHECK(gaps[2][1].as<int>() == 999);
  // The latest sample is the highest sequence, not the last to arrive.
  CHECK(db.scalar(fmt::format("SELECT seq FROM agent_latest_metrics WHERE agent_id = '{}'",
                              kA.str())) == 1'000);

  // Agent B sends 2^63 - 1 (the highest bigint): far past what any agent can have used by the
  // stream time of the event, so it is a dead letter and B's next events are applied.
  db.write({s(kB, 1, at(1)), s(kB, 2, at(2)),
            s(kB, static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()), at(3)),
            s(kB, 3, at(4)), s(kB, 4, at(5))});
  CHECK(db.scalar(fmt::format("SELECT last_seq FROM agents WHERE id = '{}'", kB.str())) == 4);
  CHECK(db.scalar(fmt::format("SELECT count(*) FROM metrics WHERE agent_id = '{}'", kB.str())) ==
        4);
  CHECK(db.scalar(fmt::format("SELECT count(*) FROM agent_sequence_gaps WHERE agent_id = '{}'",
                              kB.str())) == 0);
  CHECK(db.scalar(fmt::format("SELECT count(*) FROM dead_letters WHERE source = '{}' AND reason "
                              "LIKE 'sequence 9223372036854775807 is past %'",
                              kB.str())) == 1);
  // The bound moves with the stream's time: 1,000 a second since 2020.
  CHECK(max_plausible_seq(kSeqEpoch) == kSeqSlack);
  CHECK(max_plausible_seq(kSeqEpoch + 10 * 1'000'000'000LL) == kSeqSlack + 10'000);
  CHECK(max_plausible_seq(std::numeric_limits<UnixNanos>::max()) > 0);
}

TEST_CASE("a heartbeat below the presence counter still shows the agent alive") {
  Db db("tel_presence_jump");
  auto presence = [&](std::uint64_t n, UnixNanos when) {
    auto h = header(kA, n, when);
    h.lane = schema::Lane::Presence;
    return item(db, kA, schema::Payload::Heartbeat,
                codec::build_heartbeat(h, {.agent_version = fmt::format("1.{}", n)}));
  };
  // The counter jumps to 1,000,000; the agent's real heartbeats, 8 and 9, still move last_seen
  // (and only that: the version and counter stay those of the newest counter).
  db.write({presence(7, kNoon), presence(1'000'000, kNoon + 10)});
  auto later = db.write({presence(8, kNoon + 30'000'000'000), presence(8, kNoon + 30'000'000'000),
                         presence(9, kNoon + 20'000'000'000)});
  CHECK(later.applied == 1);
  CHECK(later.duplicates == 2);  // 8 again, and 9 older than last_seen
  auto r = db.query(
      "SELECT last_presence_seq, events_applied, version, "
      "(extract(epoch FROM last_seen) * 1e9)::bigint FROM agents");
  CHECK(r[0][0].as<std::int64_t>() == 1'000'000);
  CHECK(r[0][1].as<int>() == 2);
  CHECK(r[0][2].as<std::string>() == "1.1000000");
  CHECK(r[0][3].as<std::int64_t>() / 1000 == (kNoon + 30'000'000'000) / 1000);
}

TEST_CASE("presence-lane heartbeats and ordered events never skip each other") {
  Db db("tel_presence");
  auto presence = [&](std::uint64_t n, UnixNanos at) {
    flatbuffers::FlatBufferBuilder fbb;
    auto h = header(kA, n, at);
    auto event_id = codec::to_wire(h.event_id.bytes());
    auto source_id = codec::to_wire(h.agent.bytes());
    auto env = schema::CreateEnvelope(fbb, &event_id, schema::SourceKind::Agent, &source_id, 0, n,
                                      at, codec::kEventSchemaVersion, schema::Payload::Heartbeat,
                                      schema::CreateHeartbeatDirect(fbb, "2.0").Union(),
                                      schema::Lane::Presence);
    schema::FinishEnvelopeBuffer(fbb, env);
    return item(db, kA, schema::Payload::Heartbeat,
                {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()});
  };
  // Heartbeat counter 7 arrives ahead of a backlog of ordered events 1..3.
  auto s1 = db.write({presence(7, kNoon + 100), sample(db, kA, 1, kNoon, 1, false),
                      sample(db, kA, 2, kNoon + 1, 2, false)});
  CHECK(s1.applied == 3);
  auto s2 = db.write(
      {sample(db, kA, 3, kNoon + 2, 3, false), presence(8, kNoon + 200), presence(8, kNoon + 200)});
  CHECK(s2.applied == 2);
  CHECK(s2.duplicates == 1);
  auto r = db.query(
      "SELECT last_seq, last_presence_seq, events_applied, "
      "(extract(epoch FROM last_seen) * 1e9)::bigint FROM agents");
  CHECK(r[0][0].as<int>() == 3);
  CHECK(r[0][1].as<int>() == 8);
  CHECK(r[0][2].as<int>() == 5);
  CHECK(r[0][3].as<std::int64_t>() / 1000 == (kNoon + 200) / 1000);
  CHECK(db.scalar("SELECT count(*) FROM metrics") == 3);
  CHECK(db.scalar("SELECT count(*) FROM agent_sequence_gaps") == 0);
}

TEST_CASE("outbox drops are recorded once") {
  Db db("tel_drops");
  auto drop = item(db, kA, schema::Payload::OutboxDropped,
                   codec::build_outbox_dropped(header(kA, 1, kNoon), {10, 2, 5, 20}));
  db.write({std::move(drop)});
  CHECK(db.text("SELECT dropped_metrics || '/' || dropped_heartbeats || '/' || oldest_dropped_seq "
                "|| '/' || newest_dropped_seq FROM agent_outbox_drops") == "10/2/5/20");
}

TEST_CASE("migration 0006 moves rows of the per-item tables into the metrics row's json") {
  // A database at migration 0005 with rows in the tables 0006 replaces.
  Db db("tel_mig6", "0006");
  auto& conn = *db.conn;
  const std::string a = kA.str();
  {
    pqxx::work tx(conn);
    tx.exec("SELECT rmm_ensure_metrics_day('2024-03-10')");
    tx.exec(fmt::format(
        "INSERT INTO metrics SELECT '{0}', ts, seq, seq, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1 "
        "FROM (VALUES ('2024-03-10 12:00:00+00'::timestamptz, 1), "
        "('2024-03-10 12:01:00+00', 2)) v(ts, seq)",
        a));
    tx.exec(
        fmt::format("INSERT INTO metrics_filesystems VALUES "
                    "('{0}', '2024-03-10 12:00:00+00', '/', 'ext4', 'a\"b', 1, 2, 3, 4), "
                    "('{0}', '2024-03-10 12:00:00+00', '/boot', 'vfat', 'd', 5, 6, 7, 8)",
                    a));
    tx.exec(fmt::format(
        "INSERT INTO metrics_disks VALUES ('{0}', '2024-03-10 12:00:00+00', 'sda', 1, 2, 3, 4, 5)",
        a));
    tx.exec(
        fmt::format("INSERT INTO metrics_net VALUES "
                    "('{0}', '2024-03-10 12:01:00+00', 'eth0', 1, 2, 3, 4, 5, 6, 7, 8)",
                    a));
    tx.exec(
        fmt::format("INSERT INTO metrics_temperatures VALUES "
                    "('{0}', '2024-03-10 12:00:00+00', 'coretemp', 'Core 0', 41.5)",
                    a));
    tx.exec(
        fmt::format("INSERT INTO agent_processes VALUES ('{0}', now(), 1, "
                    "'[{{\"pid\": 1, \"name\": \"init\"}}]')",
                    a));
    tx.commit();
  }
  db.migrate();
  pqxx::nontransaction tx(conn);
  auto r = tx.exec(
      "SELECT seq, filesystems::text, disks::text, net::text, temperatures::text "
      "FROM metrics ORDER BY seq");
  REQUIRE(r.size() == 2);
  // 0006 rendered the objects the projector wrote then; 0008 turned them into arrays of values.
  CHECK(r[0][1].as<std::string>() ==
        R"([["/","ext4","a\"b",1,2,3,4],["/boot","vfat","d",5,6,7,8]])");
  CHECK(r[0][2].as<std::string>() == R"([["sda",1,2,3,4,5]])");
  CHECK(r[0][3].is_null());
  CHECK(r[0][4].as<std::string>() == R"([["coretemp","Core 0",41.5]])");
  CHECK(r[1][1].is_null());
  CHECK(r[1][3].as<std::string>() == R"([["eth0",1,2,3,4,5,6,7,8]])");
  // The views give the old rows back.
  CHECK(tx.exec1("SELECT string_agg(mount || '|' || device || '|' || inodes_total, ',' "
                 "ORDER BY mount) FROM metrics_filesystems")[0]
            .as<std::string>() == "/|a\"b|4,/boot|d|8");
  CHECK(tx.exec1("SELECT tx_drops FROM metrics_net")[0].as<int>() == 8);
  CHECK(tx.exec1("SELECT json_array_length(processes) FROM agent_processes")[0].as<int>() == 1);
  // Retention still accepts the old list of parents (the dropped tables are skipped).
  CHECK(tx.exec1("SELECT rmm_drop_partitions_before('{metrics,metrics_filesystems,metrics_net}', "
                 "'2024-03-12')")[0]
            .as<int>() == 1);
  CHECK(tx.exec1("SELECT count(*) FROM metrics")[0].as<int>() == 0);
}

TEST_CASE("migration 0008 turns stored lists into the arrays the writer now writes") {
  // A database at migration 0007, whose projector wrote each list item as an object.
  Db db("tel_mig8", "0008");
  codec::MetricsInfo m{.cpu_percent = 12.5f, .memory_total_bytes = 100, .memory_used_bytes = 50};
  m.filesystems = std::vector<codec::FilesystemInfo>{
      {"/mnt/q\"b\\s\tx", "ext4", "/dev/é\xE2\x82\xAC", 1, 9'223'372'036'854'775'807ull, 3, 4},
      {"/", "xfs", "it's\\N", 0, 0, 0, 0}};
  m.disks = std::vector<codec::DiskIoInfo>{};  // collected, no disks: []
  m.temperatures = std::vector<codec::TemperatureInfo>{{"k\"10temp", "Tctl\\1", -0.5f},
                                                       {"acpitz", "temp1", 1e-05f}};
  // m.network not collected: NULL. Sample 2 collected no list at all.
  auto sample_bytes = [&](const AgentId& agent, std::uint64_t seq) {
    return codec::build_metrics(
        header(agent, seq, kNoon + static_cast<UnixNanos>(seq - 1) * 1'000'000'000),
        seq == 1 ? m : codec::MetricsInfo{.cpu_percent = 1, .memory_total_bytes = 1});
  };

  // The old rows exactly as the 0007 projector wrote them: its object rendering of the lists is
  // the one agent_latest_metrics still uses.
  auto old_text = [](pqxx::work& tx, const std::vector<std::uint8_t>& bytes) {
    const auto rows = metrics_rows(*schema::GetEnvelope(bytes.data())->payload_as_MetricsSample());
    using db::ListShape;
    auto list = [&](const auto& l, auto render) {
      return l ? tx.quote(render(*l, ListShape::kObjects)) : std::string("NULL");
    };
    return fmt::format("{}, {}, {}, {}", list(rows.filesystems, &db::filesystems_json),
                       list(rows.disks, &db::disks_json), list(rows.network, &db::net_json),
                       list(rows.temperatures, &db::temperatures_json));
  };
  {
    pqxx::work tx(*db.conn);
    const std::string old_sample = old_text(tx, sample_bytes(kA, 1));
    CHECK(old_sample.starts_with(
        R"('[{"mount":"/mnt/q\"b\\s\u0009x","fstype":"ext4","device":"/dev/é€",)"
        R"("used_bytes":1,"total_bytes":9223372036854775807,"inodes_used":3,"inodes_total":4},)"
        R"({"mount":"/",)"));
    tx.exec("SELECT rmm_ensure_metrics_day('2024-03-10')");
    tx.exec(fmt::format(
        "INSERT INTO metrics VALUES ('{0}', '2024-03-10 12:00:00+00', 1, 1, 12.5, 0, 100, 50, 0, "
        "0, 0, 0, 0, 0, 0, 0, 0, 0, {1}), ('{0}', '2024-03-10 12:00:01+00', 2, 2, 1, 0, 1, 0, 0, "
        "0, 0, 0, 0, 0, 0, 0, 0, 0, {2})",
        kA.str(), old_sample, old_text(tx, sample_bytes(kA, 2))));
    tx.commit();
  }
  // Every view's rows per sample, in item order, and the views' columns and types.
  auto views = [&] {
    std::string out;
    for (const char* view :
         {"metrics_filesystems", "metrics_disks", "metrics_net", "metrics_temperatures"}) {
      out += db.text(fmt::format(
          "SELECT (SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' "
          "ORDER BY attnum) FROM pg_attribute WHERE attrelid = '{0}'::regclass AND attnum > 0) "
          "|| E'\\n' || string_agg(m.seq || ': ' || (SELECT coalesce(string_agg(v::text, ' '), "
          "'') FROM {0} v WHERE v.agent_id = m.agent_id AND v.ts = m.ts), E'\\n' ORDER BY m.seq) "
          "FROM metrics m",
          view));
      out += '\n';
    }
    return out;
  };
  const std::string before = views();
  // Record text of the views' rows: quotes doubled, backslashes doubled, tab as is.
  CHECK(before.find("\"/mnt/q\"\"b\\\\s\tx\",ext4,/dev/é€,1,9223372036854775807,3,4)") !=
        std::string::npos);
  CHECK(before.find(",\"k\"\"10temp\",\"Tctl\\\\1\",-0.5)") != std::string::npos);
  CHECK(before.find(",acpitz,temp1,1e-05)") != std::string::npos);

  db.migrate();
  CHECK(views() == before);
  auto r = db.query(
      "SELECT filesystems::text, disks::text, net::text, temperatures::text FROM metrics "
      "ORDER BY seq");
  REQUIRE(r.size() == 2);
  CHECK(r[0][0].as<std::string>() ==
        R"([["/mnt/q\"b\\s\u0009x","ext4","/dev/é€",1,9223372036854775807,3,4],)"
        R"(["/","xfs","it's\\N",0,0,0,0]])");
  CHECK(r[0][1].as<std::string>() == "[]");
  CHECK(r[0][2].is_null());
  CHECK(r[0][3].as<std::string>() == R"([["k\"10temp","Tctl\\1",-0.5],["acpitz","temp1",1e-05]])");
  for (int column = 0; column < 4; ++column) CHECK(r[1][column].is_null());

  // Byte for byte what the projector writes now for the same samples (as another agent's rows).
  db.write({item(db, kB, schema::Payload::MetricsSample, sample_bytes(kB, 1)),
            item(db, kB, schema::Payload::MetricsSample, sample_bytes(kB, 2))});
  CHECK(db.scalar(fmt::format(
            "SELECT count(*) FROM metrics a JOIN metrics b USING (ts, seq) WHERE a.agent_id = "
            "'{}' AND b.agent_id = '{}' AND a.filesystems::text IS NOT DISTINCT FROM "
            "b.filesystems::text AND a.disks::text IS NOT DISTINCT FROM b.disks::text AND "
            "a.net::text IS NOT DISTINCT FROM b.net::text AND a.temperatures::text IS NOT "
            "DISTINCT FROM b.temperatures::text",
            kA.str(), kB.str())) == 2);
}
