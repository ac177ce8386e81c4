// Pure folds of the telemetry and command events, the presence lane, gap detection, and the
// text forms the writers send to PostgreSQL. No servers.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "common/command_codec.h"
#include "common/event_codec.h"
#include "projector/db/sql_text.h"
#include "projector/db/state_writer.h"
#include "projector/folds/decode.h"

using namespace rmm;
using namespace rmm::projector;

namespace {

const AgentId kAgent = *AgentId::parse("0190a5c2-0000-7000-8000-0000000000a1");
const CommandId kCommand = *CommandId::parse("0190a5c2-0000-7000-8000-0000000000c1");
constexpr UnixNanos kAt = 1'700'000'000'123'456'789;

codec::AgentEventHeader header(std::uint64_t seq, UnixNanos at = kAt) {
  FakeClock clock;
  return {.event_id = EventId::generate(clock),
          .agent = kAgent,
          .seq = AgentSeq{seq},
          .occurred_at = at};
}

std::string subject(schema::Payload type) {
  return fmt::format("rmm.p.3.evt.{}.{}", kAgent.str(), codec::event_type_token(type));
}

AgentEvent decode_event(schema::Payload type, const std::vector<std::uint8_t>& bytes) {
  auto d = decode_message(subject(type), bytes);
  if (const auto* dl = std::get_if<DeadLetter>(&d)) FAIL("dead letter: " << dl->reason);
  REQUIRE(std::holds_alternative<AgentEvent>(d));
  return std::get<AgentEvent>(std::move(d));
}

// A heartbeat in the presence lane: the codec builds ordered-lane envelopes, so set the lane here.
std::vector<std::uint8_t> presence_heartbeat(std::uint64_t n, UnixNanos at,
                                             schema::Payload type = schema::Payload::Heartbeat) {
  flatbuffers::FlatBufferBuilder fbb;
  auto h = header(n, at);
  auto event_id = codec::to_wire(h.event_id.bytes());
  auto source_id = codec::to_wire(h.agent.bytes());
  flatbuffers::Offset<void> payload = type == schema::Payload::Heartbeat
                                          ? schema::CreateHeartbeatDirect(fbb, "1.0").Union()
                                          : schema::CreateMetricsSample(fbb, 1.0f).Union();
  auto env =
      schema::CreateEnvelope(fbb, &event_id, schema::SourceKind::Agent, &source_id, 0, n, at,
                             codec::kEventSchemaVersion, type, payload, schema::Lane::Presence);
  schema::FinishEnvelopeBuffer(fbb, env);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

codec::MetricsInfo full_sample() {
  codec::MetricsInfo m;
  m.cpu_percent = 37.5f;
  m.memory_total_bytes = 8'000;
  m.memory_used_bytes = 2'000;
  m.memory_available_bytes = 6'000;
  m.memory_cached_bytes = 1'000;
  m.swap_total_bytes = 500;
  m.swap_used_bytes = 50;
  m.load1 = 0.5f;
  m.load5 = 0.25f;
  m.load15 = 0.125f;
  m.cpu_interval_ms = 60'000;
  m.uptime_s = 3600;
  m.process_count = 123;
  m.logged_in_users = 2;
  m.filesystems = std::vector<codec::FilesystemInfo>{
      {"/", "ext4", "/dev/sda1", 10, 100, 1, 1000},
      {"/data", "xfs", "/dev/sdb", std::numeric_limits<std::uint64_t>::max(), 200, 2, 2000}};
  m.disks = std::vector<codec::DiskIoInfo>{{"sda", 1, 2, 3, 4, 5}};
  m.network = std::vector<codec::NetIoInfo>{{"eth0", 1, 2, 3, 4, 5, 6, 7, 8}};
  m.temperatures = std::vector<codec::TemperatureInfo>{};  // collected, no sensors
  m.top_processes =
      std::vector<codec::ProcessInfo>{{42, "postgres", "pg", 12.5f, 4096, "postgres -D x"}};
  m.collection_errors = {"gpu: not supported"};
  return m;
}

}  // namespace

TEST_CASE("MetricsSample: main figures, item rows, absent vs empty lists, clamping") {
  auto ev =
      decode_event(schema::Payload::MetricsSample, codec::build_metrics(header(4), full_sample()));
  REQUIRE(std::holds_alternative<MetricsRows>(ev.body));
  const auto& r = std::get<MetricsRows>(ev.body);
  CHECK(r.cpu_percent == 37.5f);
  CHECK(r.cpu_interval_ms == 60'000);
  CHECK(r.mem_total_bytes == 8'000);
  CHECK(r.mem_used_bytes == 2'000);
  CHECK(r.mem_cached_bytes == 1'000);
  CHECK(r.swap_used_bytes == 50);
  CHECK(r.load15 == 0.125f);
  CHECK(r.uptime_s == 3600);
  CHECK(r.process_count == 123);
  CHECK(r.logged_in_users == 2);
  CHECK(r.mem_percent() == doctest::Approx(25.0));
  REQUIRE(r.filesystems.has_value());
  REQUIRE(r.filesystems->size() == 2);
  CHECK((*r.filesystems)[0] == FilesystemRow{"/", "ext4", "/dev/sda1", 10, 100, 1, 1000});
  // uint64 past bigint is clamped, never wrapped negative.
  CHECK((*r.filesystems)[1].used_bytes == std::numeric_limits<std::int64_t>::max());
  REQUIRE(r.disks.has_value());
  CHECK((*r.disks)[0] == DiskRow{"sda", 1, 2, 3, 4, 5});
  REQUIRE(r.network.has_value());
  CHECK((*r.network)[0] == NetRow{"eth0", 1, 2, 3, 4, 5, 6, 7, 8});
  REQUIRE(r.temperatures.has_value());
  CHECK(r.temperatures->empty());
  REQUIRE(r.top_processes.has_value());
  CHECK((*r.top_processes)[0] == ProcessRow{42, "postgres", "pg", "postgres -D x", 12.5f, 4096});
  CHECK(r.collection_errors == std::vector<std::string>{"gpu: not supported"});

  // A v1-shaped sample: lists were not collected.
  auto v1 = decode_event(schema::Payload::MetricsSample,
                         codec::build_metrics(header(5), {.cpu_percent = 1.0f}));
  const auto& r1 = std::get<MetricsRows>(v1.body);
  CHECK_FALSE(r1.filesystems.has_value());
  CHECK_FALSE(r1.temperatures.has_value());
  CHECK_FALSE(r1.top_processes.has_value());
  CHECK(r1.mem_percent() == 0.0);  // unknown total: no division by zero
}

TEST_CASE("MetricsSample: non-finite floats become 0, hostile strings become storable") {
  codec::MetricsInfo m;
  m.cpu_percent = std::numeric_limits<float>::quiet_NaN();
  m.load1 = std::numeric_limits<float>::infinity();
  m.filesystems = std::vector<codec::FilesystemInfo>{{"/mnt\xC3(", "ext4", "", 1, 2, 3, 4}};
  m.temperatures = std::vector<codec::TemperatureInfo>{
      {"coretemp", "\xff", -std::numeric_limits<float>::infinity()}};
  auto ev = decode_event(schema::Payload::MetricsSample, codec::build_metrics(header(1), m));
  const auto& r = std::get<MetricsRows>(ev.body);
  CHECK(r.cpu_percent == 0.0f);
  CHECK(r.load1 == 0.0f);
  CHECK((*r.filesystems)[0].mount == "/mnt\xEF\xBF\xBD(");
  CHECK((*r.temperatures)[0].label == "\xEF\xBF\xBD");
  CHECK((*r.temperatures)[0].celsius == 0.0f);
}

TEST_CASE("Inventory: typed summary and the documents") {
  codec::InventoryInfo inv;
  inv.hostname = "web-01";
  inv.os_pretty = "Debian GNU/Linux 12 (bookworm)";
  inv.cpu_model = "Xeon";
  inv.cpu_threads = 8;
  inv.memory_total_bytes = 16ull << 30;
  inv.boot_time_ns = 1'600'000'000'000'000'000;
  inv.interfaces = {{"eth0", "52:54:00:12:34:56", {"10.0.0.5/24", "fe80::1/64"}}};
  inv.package_manager = "dpkg";
  inv.packages = {{"bash", "5.2", "amd64"}, {"quote\"pkg", "1\\2", "all"}};
  inv.packages_truncated = true;
  inv.services = {{"ssh.service", "loaded", "active", "running"}};
  auto ev = decode_event(schema::Payload::Inventory, codec::build_inventory(header(2), inv));
  REQUIRE(std::holds_alternative<InventoryRow>(ev.body));
  const auto& r = std::get<InventoryRow>(ev.body);
  CHECK(r.hostname == "web-01");
  CHECK(r.os_pretty == "Debian GNU/Linux 12 (bookworm)");
  CHECK(r.cpu_threads == 8);
  CHECK(r.memory_total_bytes == static_cast<std::int64_t>(16ull << 30));
  CHECK(r.boot_time_ns == 1'600'000'000'000'000'000);
  CHECK(r.packages_truncated);
  CHECK_FALSE(r.services_truncated);
  CHECK(db::interfaces_json(r) ==
        R"([{"name":"eth0","mac":"52:54:00:12:34:56","addresses":["10.0.0.5/24","fe80::1/64"]}])");
  CHECK(
      db::packages_json(r) ==
      R"([{"name":"bash","version":"5.2","arch":"amd64"},{"name":"quote\"pkg","version":"1\\2","arch":"all"}])");
  CHECK(db::services_json(r) ==
        R"([{"name":"ssh.service","load":"loaded","active":"active","sub":"running"}])");
}

TEST_CASE("OutboxDropped folds to a drop row") {
  auto ev = decode_event(schema::Payload::OutboxDropped,
                         codec::build_outbox_dropped(header(9), {7, 3, 100, 140}));
  REQUIRE(std::holds_alternative<OutboxDropRow>(ev.body));
  const auto& d = std::get<OutboxDropRow>(ev.body);
  CHECK(d.dropped_metrics == 7);
  CHECK(d.dropped_heartbeats == 3);
  CHECK(d.oldest_dropped_seq == 100);
  CHECK(d.newest_dropped_seq == 140);
}

TEST_CASE("command lifecycle events: one change per event, merged by the forward-only rule") {
  auto change = [](schema::Payload type, const std::vector<std::uint8_t>& bytes) {
    auto ev = decode_event(type, bytes);
    REQUIRE(std::holds_alternative<CommandChange>(ev.body));
    return std::get<CommandChange>(ev.body);
  };
  auto received = change(
      schema::Payload::CommandReceived,
      codec::build_command_received(header(1, 1000), {kCommand, "shell", "alice@example", 77}));
  CHECK(received.command == kCommand);
  CHECK(received.status == "received");
  CHECK(received.kind == "shell");
  CHECK(received.issuer == "alice@example");
  CHECK(received.command_stream_seq == 77);
  CHECK(received.received_at == 1000);
  CHECK(received.last_seq == 1);

  auto started = change(schema::Payload::CommandStarted,
                        codec::build_command_started(header(2, 2000), kCommand, 4242));
  CHECK(started.status == "started");
  CHECK(started.pid == 4242);
  CHECK(started.started_at == 2000);

  std::vector<std::uint8_t> data{'h', 'i'};
  auto out =
      change(schema::Payload::CommandOutput,
             codec::build_command_output(header(3, 2500), {.command = kCommand,
                                                           .stream = schema::OutputStream::Stderr,
                                                           .chunk_index = 5,
                                                           .offset = 10,
                                                           .data = data,
                                                           .truncated = true}));
  CHECK(out.status.empty());
  REQUIRE(out.chunks.size() == 1);
  CHECK(out.chunks[0] == OutputChunk{5, 1, 10, data, true});
  CHECK(out.stderr_truncated);
  CHECK_FALSE(out.stdout_truncated);

  auto done = change(schema::Payload::CommandCompleted,
                     codec::build_command_completed(header(4, 3000), {.command = kCommand,
                                                                      .exit_code = 3,
                                                                      .term_signal = 0,
                                                                      .duration_ms = 1000,
                                                                      .stdout_truncated = true}));
  CHECK(done.status == "completed");
  CHECK(done.exit_code == 3);
  CHECK(done.finished_at == 3000);

  auto late = change(schema::Payload::CommandInterrupted,
                     codec::build_command_interrupted(header(5, 4000), kCommand, "agent stopped"));
  CHECK(late.status == "interrupted");
  CHECK(late.reason == "agent stopped");

  CommandChange acc = received;
  for (const auto* next : {&started, &out, &done, &late}) merge_command_change(acc, *next);
  CHECK(acc.status == "completed");  // the first terminal status stays
  CHECK(acc.received_at == 1000);
  CHECK(acc.started_at == 2000);
  CHECK(acc.finished_at == 3000);
  CHECK(acc.exit_code == 3);
  CHECK(acc.reason == "agent stopped");  // completed carries no reason; the first one wins
  CHECK(acc.stdout_truncated);
  CHECK(acc.stderr_truncated);
  CHECK(acc.chunks.size() == 1);
  CHECK(acc.last_seq == 5);
  CHECK(acc.updated_at == 4000);

  // Status never moves backwards.
  CommandChange terminal = done;
  merge_command_change(terminal, started);
  CHECK(terminal.status == "completed");
  CHECK(command_status_rank("received") < command_status_rank("started"));
  CHECK(command_status_rank("started") < command_status_rank("timed_out"));

  for (auto [type, bytes, status] :
       {std::tuple{schema::Payload::CommandFailed,
                   codec::build_command_failed(header(6), kCommand, "no such file"), "failed"},
        std::tuple{
            schema::Payload::CommandTimedOut,
            codec::build_command_timed_out(header(6), {.command = kCommand, .timeout_ms = 50}),
            "timed_out"},
        std::tuple{schema::Payload::CommandCancelled,
                   codec::build_command_cancelled(header(6), {.command = kCommand}), "cancelled"},
        std::tuple{schema::Payload::CommandExpired,
                   codec::build_command_expired(header(6), kCommand, 99), "expired"},
        std::tuple{schema::Payload::CommandRejected,
                   codec::build_command_rejected(header(6), kCommand, "bad signature"),
                   "rejected"}}) {
    CAPTURE(status);
    auto c = change(type, bytes);
    CHECK(c.status == status);
    CHECK(c.finished_at == kAt);
    REQUIRE(c.reason.has_value());
    CHECK_FALSE(c.reason->empty());
  }
}

TEST_CASE("a command event without a command id is a dead letter") {
  auto bytes = codec::build_command_failed(header(1), CommandId(), "x");
  auto d = decode_message(subject(schema::Payload::CommandFailed), bytes);
  REQUIRE(std::holds_alternative<DeadLetter>(d));
  CHECK(std::get<DeadLetter>(d).reason.find("command_id") != std::string::npos);
}

TEST_CASE("presence lane: heartbeats keep their own counter; only heartbeats may use it") {
  AgentRow row;
  auto ordered = decode_event(schema::Payload::MetricsSample,
                              codec::build_metrics(header(50, 1000), {.cpu_percent = 1.0f}));
  REQUIRE(fold(row, ordered) == FoldOutcome::kApplied);
  CHECK(row.last_seq == 50);

  auto hb = decode_event(schema::Payload::Heartbeat, presence_heartbeat(3, 5000));
  CHECK(hb.lane == schema::Lane::Presence);
  CHECK_FALSE(detect_gap(row, hb).has_value());     // presence counters are never gap-checked
  REQUIRE(fold(row, hb) == FoldOutcome::kApplied);  // 3 < 50: not a duplicate of the other lane
  CHECK(row.last_presence_seq == 3);
  CHECK(row.last_seq == 50);
  CHECK(row.last_seen == 5000);
  CHECK(fold(row, hb) == FoldOutcome::kDuplicate);

  // An ordered event from the backlog, older than the heartbeat: applied, last_seen stays.
  auto backlog = decode_event(schema::Payload::MetricsSample,
                              codec::build_metrics(header(51, 2000), {.cpu_percent = 2.0f}));
  CHECK(fold(row, backlog) == FoldOutcome::kApplied);
  CHECK(row.last_seq == 51);
  CHECK(row.last_seen == 5000);

  auto d = decode_message(subject(schema::Payload::MetricsSample),
                          presence_heartbeat(4, 6000, schema::Payload::MetricsSample));
  REQUIRE(std::holds_alternative<DeadLetter>(d));
  CHECK(std::get<DeadLetter>(d).reason.find("presence lane") != std::string::npos);
}

TEST_CASE("detect_gap reports skipped ordered sequences, including before the first event") {
  AgentRow row;
  auto at = [](std::uint64_t seq) {
    return decode_event(schema::Payload::Heartbeat,
                        codec::build_heartbeat(header(seq, static_cast<UnixNanos>(seq) * 10), {}));
  };
  CHECK_FALSE(detect_gap(row, at(1)).has_value());
  auto first = detect_gap(row, at(4));
  REQUIRE(first.has_value());
  CHECK(*first == SequenceGap{kAgent, 1, 3, 40});
  REQUIRE(fold(row, at(4)) == FoldOutcome::kApplied);
  CHECK_FALSE(detect_gap(row, at(5)).has_value());
  CHECK_FALSE(detect_gap(row, at(2)).has_value());  // a duplicate, not a gap
  auto later = detect_gap(row, at(10));
  REQUIRE(later.has_value());
  CHECK(later->from_seq == 5);
  CHECK(later->to_seq == 9);
  CHECK(later->detected_at == 100);
}

TEST_CASE("sql text: timestamps, days, array literals, JSON strings") {
  using namespace rmm::projector::db;
  CHECK(utc_timestamp_text(0) == "1970-01-01 00:00:00.000000+00");
  CHECK(utc_timestamp_text(1'700'000'000'123'456) == "2023-11-14 22:13:20.123456+00");
  CHECK(utc_timestamp_text(-1) == "1969-12-31 23:59:59.999999+00");
  CHECK(ns_to_micros(-1) == -1);
  CHECK(ns_to_micros(1999) == 1);
  CHECK(utc_day(0) == 0);
  CHECK(utc_day(-1) == -1);
  CHECK(day_text(utc_day(1'700'000'000'000'000)) == "2023-11-14");
  CHECK(day_text(19'723) == "2024-01-01");

  PgArray a;
  a.add_text("plain");
  a.add_text("with \"quote\" and \\ and ,{}");
  a.add_text("");
  a.add_null();
  a.add(std::int64_t{-5});
  a.add(true);
  a.add_optional(std::optional<std::int32_t>{});
  a.add_bytea(std::vector<std::uint8_t>{0x00, 0xff});
  CHECK(a.take() == R"({"plain","with \"quote\" and \\ and ,{}","",NULL,-5,t,NULL,"\\x00ff"})");
  CHECK(a.take() == "{}");

  std::string json;
  append_json_string(json, "a\"b\\c\n\x01é");
  CHECK(json == R"("a\"b\\c\u000a\u0001é")");
}

TEST_CASE("exact decimal sums: value and display scale as PostgreSQL's numeric sum() gives") {
  using rmm::projector::db::ExactDecimalSum;
  auto sum = [](std::initializer_list<std::string_view> terms) {
    ExactDecimalSum s;
    for (auto t : terms) REQUIRE(s.add(t));
    return s.text();
  };
  CHECK(sum({}) == "0");
  CHECK(sum({"10", "30", "20"}) == "60");
  CHECK(sum({"45.5", "0.25"}) == "45.75");
  CHECK(sum({"1.5", "1.5"}) == "3.0");  // scale 1 kept, as numeric keeps it
  CHECK(sum({"1e-05", "2"}) == "2.00001");
  CHECK(sum({"3.0517578125e-05"}) == "0.000030517578125");
  CHECK(sum({"1.5e+20", "1"}) == "150000000000000000001");
  CHECK(sum({"-0", "0"}) == "0");
  CHECK(sum({"-2.5", "1"}) == "-1.5");
  CHECK(sum({"-0.001"}) == "-0.001");
  CHECK(sum({"33.333333333333336", "66.66666666666667"}) == "100.000000000000006");
  ExactDecimalSum bad;
  CHECK_FALSE(bad.add("nan"));
  CHECK_FALSE(ExactDecimalSum{}.add(""));
  CHECK_FALSE(ExactDecimalSum{}.add("1e-400"));  // more than 38 digits: SQL sums it instead
  CHECK_FALSE(ExactDecimalSum{}.add("1e+40"));
}
