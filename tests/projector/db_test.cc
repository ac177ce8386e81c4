#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <pqxx/binarystring>
#include <pqxx/nontransaction>
#include <pqxx/result>
#include <thread>

#include "common/event_codec.h"
#include "common/pg.h"
#include "projector/db/batch_writer.h"
#include "projector/db/dead_letters.h"
#include "projector/db/migrations.h"
#include "tests/fixtures/postgres.h"

using namespace rmm;
using namespace rmm::projector;
namespace fs = std::filesystem;

namespace {

const fs::path kMigrations = RMM_MIGRATIONS_SOURCE_DIR;
const AgentId kAgent = *AgentId::parse("0190a5c2-0000-7000-8000-00000000000a");

std::unique_ptr<pqxx::connection> fresh_db(std::string_view prefix) {
  auto& pg = test::PostgresFixture::shared();
  auto url = pg.create_database(pg.unique_name(prefix));
  auto conn = pg::connect(url);
  REQUIRE_MESSAGE(conn.has_value(), conn.error().message);
  return std::move(*conn);
}

pqxx::result query(pqxx::connection& conn, const std::string& sql) {
  pqxx::nontransaction tx(conn);
  return tx.exec(sql);
}

std::int64_t scalar(pqxx::connection& conn, const std::string& sql) {
  return query(conn, sql)[0][0].as<std::int64_t>();
}

// A scratch copy of the migrations that a test may edit.
struct TempMigrations {
  TempMigrations() {
    dir = fs::temp_directory_path() / fmt::format("rmm-mig-{}-{}", ::getpid(), ++counter);
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(kMigrations))
      fs::copy(e.path(), dir / e.path().filename());
  }
  ~TempMigrations() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path dir;
  static inline int counter = 0;
};

BatchItem heartbeat(std::uint64_t stream_seq, std::uint64_t agent_seq, UnixNanos at,
                    AgentId agent = kAgent) {
  FakeClock clock;
  auto bytes = codec::build_heartbeat({.event_id = EventId::generate(clock),
                                       .agent = agent,
                                       .seq = AgentSeq{agent_seq},
                                       .occurred_at = at},
                                      {.agent_version = "2.0"});
  auto subject = fmt::format("rmm.p.3.evt.{}.heartbeat", agent.str());
  return {StreamSeq{stream_seq}, decode_message(subject, bytes)};
}

}  // namespace

TEST_CASE("migrations apply once; a second run is a no-op") {
  auto conn = fresh_db("mig");
  auto first = db::apply_migrations(*conn, kMigrations);
  REQUIRE_MESSAGE(first.has_value(), first.error().message);
  CHECK(first->applied >= 1);
  CHECK(first->already_applied == 0);
  CHECK(scalar(*conn, "SELECT count(*) FROM schema_migrations") == first->applied);
  CHECK(scalar(*conn, "SELECT count(*) FROM agents") == 0);
  CHECK(scalar(*conn, "SELECT count(*) FROM dead_letters") == 0);

  auto second = db::apply_migrations(*conn, kMigrations);
  REQUIRE_MESSAGE(second.has_value(), second.error().message);
  CHECK(second->applied == 0);
  CHECK(second->already_applied == first->applied);
}

TEST_CASE("concurrent starters apply each migration once") {
  auto& pg = test::PostgresFixture::shared();
  auto url = pg.create_database(pg.unique_name("mig_race"));
  constexpr int kStarters = 4;
  std::vector<Result<db::MigrationReport>> reports(kStarters, fail("not run"));
  std::vector<std::thread> threads;
  for (int i = 0; i < kStarters; ++i) {
    threads.emplace_back([&, i] {
      auto conn = pg::connect(url);
      if (!conn) return;
      reports[i] = db::apply_migrations(**conn, kMigrations);
    });
  }
  for (auto& t : threads) t.join();
  int applied = 0;
  for (const auto& r : reports) {
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    applied += r->applied;
  }
  auto conn = pg::connect(url);
  REQUIRE(conn.has_value());
  auto files = db::load_migrations(kMigrations);
  REQUIRE(files.has_value());
  CHECK(applied == static_cast<int>(files->size()));
  CHECK(scalar(**conn, "SELECT count(*) FROM schema_migrations") ==
        static_cast<std::int64_t>(files->size()));
}

TEST_CASE("a CRLF checkout of applied migrations is accepted") {
  auto conn = fresh_db("mig_crlf");
  TempMigrations tmp;
  REQUIRE(db::apply_migrations(*conn, tmp.dir).has_value());
  auto file = tmp.dir / "0001_initial.sql";
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  in.close();
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << crlf;
  auto again = db::apply_migrations(*conn, tmp.dir);
  CHECK_MESSAGE(again.has_value(), (again ? "" : again.error().message));
}

TEST_CASE("an applied migration whose file changed is a clear startup error") {
  auto conn = fresh_db("mig_changed");
  TempMigrations tmp;
  REQUIRE(db::apply_migrations(*conn, tmp.dir).has_value());
  auto file = tmp.dir / "0001_initial.sql";
  auto applied_checksum =
      query(*conn, "SELECT checksum FROM schema_migrations WHERE version = 1")[0][0]
          .as<std::string>();
  std::ofstream(file, std::ios::app) << "\n-- an innocent-looking edit\n";
  auto again = db::apply_migrations(*conn, tmp.dir);
  REQUIRE_FALSE(again.has_value());
  const auto& msg = again.error().message;
  CAPTURE(msg);
  CHECK(msg.find(file.string()) != std::string::npos);
  CHECK(msg.find(applied_checksum) != std::string::npos);
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(msg.find(db::migration_checksum(text)) != std::string::npos);
}

TEST_CASE("new migrations apply in order; bad file names and missing applied files are errors") {
  auto conn = fresh_db("mig_more");
  TempMigrations tmp;
  REQUIRE(db::apply_migrations(*conn, tmp.dir).has_value());
  std::ofstream(tmp.dir / "9001_extra.sql") << "CREATE TABLE extra (a int);\n";
  auto r = db::apply_migrations(*conn, tmp.dir);
  REQUIRE_MESSAGE(r.has_value(), r.error().message);
  CHECK(r->applied == 1);
  CHECK(scalar(*conn, "SELECT count(*) FROM extra") == 0);

  std::ofstream(tmp.dir / "9002-bad name.sql") << "SELECT 1;\n";
  CHECK_FALSE(db::apply_migrations(*conn, tmp.dir).has_value());
  fs::remove(tmp.dir / "9002-bad name.sql");

  fs::remove(tmp.dir / "9001_extra.sql");
  auto missing = db::apply_migrations(*conn, tmp.dir);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().message.find("9001_extra") != std::string::npos);

  std::ofstream(tmp.dir / "9001_extra.sql") << "CREATE TABLE extra (a int);\n";
  std::ofstream(tmp.dir / "9003_broken.sql") << "CREATE TABLE broken (;\n";
  auto broken = db::apply_migrations(*conn, tmp.dir);
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message.find("9003_broken.sql") != std::string::npos);
  CHECK(scalar(*conn, "SELECT count(*) FROM schema_migrations WHERE version = 9003") == 0);
}

TEST_CASE("batch writer: duplicates apply once, checkpoint moves with the rows") {
  auto conn = fresh_db("batch");
  REQUIRE(db::apply_migrations(*conn, kMigrations).has_value());
  db::BatchWriter writer(*conn);
  auto cp0 = writer.read_checkpoint();
  REQUIRE(cp0.has_value());
  CHECK(cp0->value == 0);

  // Stream seqs 1..5; agent seq 2 arrives twice (a re-send past the dedupe window), stream seq 3
  // is redelivered inside the batch, and agent seq 3 arrives after 4 (it fills the gap).
  std::vector<BatchItem> batch{heartbeat(1, 1, 1'000'000), heartbeat(2, 2, 2'000'000),
                               heartbeat(3, 2, 3'000'000), heartbeat(3, 2, 3'000'000),
                               heartbeat(4, 4, 4'000'000), heartbeat(5, 3, 5'000'000)};
  auto stats = writer.write(batch);
  REQUIRE_MESSAGE(stats.has_value(), stats.error().message);
  CHECK(stats->applied == 4);     // agent seqs 1, 2, 4, and 3 late
  CHECK(stats->filled == 1);      // agent seq 3
  CHECK(stats->duplicates == 1);  // stream 3 (agent seq 2)
  CHECK(stats->already_checkpointed == 1);
  CHECK(stats->checkpoint.value == 5);

  auto row = query(*conn,
                   "SELECT last_seq, events_applied, version, "
                   "(extract(epoch from last_seen) * 1000000)::bigint, "
                   "(extract(epoch from first_seen) * 1000000)::bigint FROM agents")[0];
  CHECK(row[0].as<std::int64_t>() == 4);
  CHECK(row[1].as<std::int64_t>() == 4);
  CHECK(row[2].as<std::string>() == "2.0");
  CHECK(row[3].as<std::int64_t>() == 5'000);  // event time of agent seq 3, the newest, in us
  CHECK(scalar(*conn, "SELECT count(*) FROM agent_sequence_gaps") == 0);
  CHECK(row[4].as<std::int64_t>() == 1'000);
  CHECK(writer.read_checkpoint()->value == 5);

  // The whole batch redelivered (crash between commit and ack): nothing changes.
  auto again = writer.write(batch);
  REQUIRE(again.has_value());
  CHECK(again->applied == 0);
  CHECK(again->already_checkpointed == static_cast<int>(batch.size()));
  CHECK(scalar(*conn, "SELECT events_applied FROM agents") == 4);

  // A later batch folds onto the stored row.
  std::vector<BatchItem> next{heartbeat(6, 9, 9'000'000)};
  auto third = writer.write(next);
  REQUIRE(third.has_value());
  CHECK(third->applied == 1);
  CHECK(scalar(*conn, "SELECT events_applied FROM agents") == 5);
  CHECK(scalar(*conn, "SELECT last_seq FROM agents") == 9);
  CHECK(scalar(*conn, "SELECT (extract(epoch from first_seen) * 1000000)::bigint FROM agents") ==
        1'000);
  CHECK(scalar(*conn, "SELECT stream_seq FROM projection_checkpoints WHERE projection = 'core'") ==
        6);
}

TEST_CASE("batch writer: bad input becomes dead letter rows in the same transaction") {
  auto conn = fresh_db("dead");
  REQUIRE(db::apply_migrations(*conn, kMigrations).has_value());
  db::BatchWriter writer(*conn);
  std::vector<std::uint8_t> garbage{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x03, 0x04};
  auto other = *AgentId::parse("0190a5c2-0000-7000-8000-00000000000b");
  FakeClock clock;
  auto spoofed = codec::build_heartbeat(
      {.event_id = EventId::generate(clock), .agent = other, .seq = AgentSeq{1}, .occurred_at = 1},
      {});
  std::string bad_utf8_subject = "rmm.p.1.evt.\xff\xfe.heartbeat";
  std::vector<BatchItem> batch{
      {StreamSeq{10},
       decode_message(fmt::format("rmm.p.3.evt.{}.heartbeat", kAgent.str()), garbage)},
      {StreamSeq{11},
       decode_message(fmt::format("rmm.p.3.evt.{}.heartbeat", kAgent.str()), spoofed)},
      {StreamSeq{12}, decode_message(bad_utf8_subject, garbage)},
      heartbeat(13, 1, 1000),
      {StreamSeq{14}, decode_message("rmm.ctl.user.created", garbage)},
  };
  auto stats = writer.write(batch);
  REQUIRE_MESSAGE(stats.has_value(), stats.error().message);
  CHECK(stats->dead_letters == 3);
  CHECK(stats->applied == 1);
  CHECK(stats->ignored == 1);
  CHECK(stats->checkpoint.value == 14);

  auto rows = query(
      *conn, "SELECT stream_seq, reason, raw, projection FROM dead_letters ORDER BY stream_seq");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0][0].as<std::int64_t>() == 10);
  CHECK(rows[0][3].as<std::string>() == "core");
  pqxx::binarystring raw(rows[0][2]);
  CHECK(std::vector<std::uint8_t>(raw.data(), raw.data() + raw.size()) == garbage);
  CHECK(rows[1][1].as<std::string>().find("does not match subject agent") != std::string::npos);
  CHECK(scalar(*conn, "SELECT count(*) FROM agents") == 1);
}

TEST_CASE("dead letters: 16 KiB of each message, at most 100 per source and hour, then expired") {
  auto conn = fresh_db("dead_cap");
  REQUIRE(db::apply_migrations(*conn, kMigrations).has_value());
  db::BatchWriter writer(*conn);
  // One agent floods the projector with 1 MiB messages it cannot decode, within one hour of
  // stream time; another agent sends one.
  constexpr UnixNanos kHour = 3'600'000'000'000;
  constexpr UnixNanos kStored = 1'800'000'000'000'000'000;  // 2027-01-15 08:00 UTC
  std::vector<std::uint8_t> big(1 << 20, 0x5a);
  big[0] = 0x01;
  const auto subject = fmt::format("rmm.p.3.evt.{}.metrics", kAgent.str());
  const auto other = *AgentId::parse("0190a5c2-0000-7000-8000-00000000000b");
  std::vector<BatchItem> first;
  for (std::uint64_t i = 1; i <= 150; ++i) {
    first.push_back(
        {StreamSeq{i}, decode_message(subject, big, kStored + static_cast<UnixNanos>(i) * 1000)});
  }
  first.push_back(
      {StreamSeq{151}, decode_message(fmt::format("rmm.p.3.evt.{}.metrics", other.str()), big,
                                      kStored + kHour / 2)});
  auto stats = writer.write(first);
  REQUIRE_MESSAGE(stats.has_value(), stats.error().message);
  CHECK(stats->dead_letters == 101);
  CHECK(stats->dead_letters_dropped == 50);
  // The cap holds across batches; the next hour starts afresh.
  std::vector<BatchItem> second;
  for (std::uint64_t i = 152; i <= 160; ++i) {
    second.push_back({StreamSeq{i}, decode_message(subject, big, kStored + kHour / 2)});
  }
  second.push_back({StreamSeq{161}, decode_message(subject, big, kStored + kHour)});
  stats = writer.write(second);
  REQUIRE_MESSAGE(stats.has_value(), stats.error().message);
  CHECK(stats->dead_letters == 1);
  CHECK(stats->dead_letters_dropped == 9);

  CHECK(scalar(*conn, fmt::format("SELECT count(*) FROM dead_letters WHERE source = '{}'",
                                  kAgent.str())) == 101);
  CHECK(scalar(*conn, "SELECT max(length(raw)) FROM dead_letters") == 16 * 1024);
  CHECK(scalar(*conn, "SELECT min(raw_size) FROM dead_letters") == 1 << 20);
  // The hash is of the whole message, as PostgreSQL computes it.
  {
    pqxx::work tx(*conn);
    auto same = tx.exec_params1("SELECT bool_and(raw_sha256 = sha256($1::bytea)) FROM dead_letters",
                                pqxx::binarystring(big.data(), big.size()));
    CHECK(same[0].as<bool>());
  }
  auto hours = query(*conn,
                     "SELECT source, stored, dropped FROM dead_letter_hours "
                     "ORDER BY hour, source");
  REQUIRE(hours.size() == 3);
  CHECK(hours[0][0].as<std::string>() == kAgent.str());
  CHECK(hours[0][1].as<std::int64_t>() == 100);
  CHECK(hours[0][2].as<std::int64_t>() == 59);
  CHECK(hours[1][0].as<std::string>() == other.str());
  CHECK(hours[1][1].as<std::int64_t>() == 1);
  CHECK(hours[2][1].as<std::int64_t>() == 1);

  // Retention goes by the stream time of the message.
  auto expired =
      db::expire_dead_letters(*conn, kStored + 30 * 24 * kHour + kHour / 2, std::chrono::days(30));
  REQUIRE(expired.has_value());
  CHECK(*expired == 100);  // the first agent's first hour; the other agent's half hour is kept
  CHECK(scalar(*conn, "SELECT count(*) FROM dead_letters") == 2);
  CHECK(scalar(*conn, "SELECT count(*) FROM dead_letter_hours") == 1);  // hours before the cutoff
}

TEST_CASE("hostile agent strings are stored bounded and valid") {
  auto conn = fresh_db("strings");
  REQUIRE(db::apply_migrations(*conn, kMigrations).has_value());
  FakeClock clock;
  // Built by hand: the codec's helpers stop at a NUL, a hostile agent does not.
  flatbuffers::FlatBufferBuilder fbb;
  auto hostname = fbb.CreateString(std::string("evil\0host\xff", 10) + std::string(4000, 'x'));
  auto os_name = fbb.CreateString("'; DROP TABLE agents; --");
  auto version = fbb.CreateString("\xc3");
  schema::AgentStartedBuilder b(fbb);
  b.add_hostname(hostname);
  b.add_os_name(os_name);
  b.add_agent_version(version);
  auto payload = b.Finish().Union();
  auto bytes = codec::finish_agent_event(
      fbb,
      {.event_id = EventId::generate(clock), .agent = kAgent, .seq = AgentSeq{1}, .occurred_at = 1},
      schema::Payload::AgentStarted, payload);
  std::vector<BatchItem> batch{
      {StreamSeq{1}, decode_message(fmt::format("rmm.p.3.evt.{}.started", kAgent.str()), bytes)}};
  db::BatchWriter writer(*conn);
  auto stats = writer.write(batch);
  REQUIRE_MESSAGE(stats.has_value(), stats.error().message);
  auto row = query(*conn, "SELECT hostname, os, char_length(hostname), version FROM agents")[0];
  CHECK(row[0].as<std::string>().starts_with("evilhost\xEF\xBF\xBD"));
  CHECK(row[1].as<std::string>() == "'; DROP TABLE agents; --");
  CHECK(row[2].as<int>() == 255);
  CHECK(row[3].as<std::string>() == "\xEF\xBF\xBD");
}
