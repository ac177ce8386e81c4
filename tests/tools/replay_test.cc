// rmm-replay against a real nats-server: every schema field in JSON Lines, filters, CSV, the raw
// archive's round trip through import, and no consumer left behind.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <thread>

#include "common/control_plane_events.h"
#include "tests/fixtures/nats_server.h"
#include "tests/tools/replay_test_util.h"
#include "tools/replay/embedded_schema.h"
#include "tools/replay/record_format.h"
#include "tools/replay/schema_json.h"

using namespace rmm;
using namespace std::chrono_literals;

namespace {

codec::AgentEventHeader header(const AgentId& agent, std::uint64_t seq,
                               schema::Lane lane = schema::Lane::Ordered) {
  RealClock clock;
  return {EventId::generate(clock), agent, AgentSeq{seq}, clock.now(), lane};
}

replay::ExportOptions options_for(const test::NatsServerFixture& nats) {
  replay::ExportOptions o;
  o.nats_url = nats.url();
  o.nats_creds = nats.services_creds().string();
  return o;
}

// Every non-deprecated field of `object` is a key of `json`, recursively through sub-tables.
void check_every_field(const replay::SchemaJson& schema, int object, const boost::json::value& v,
                       int& checked) {
  REQUIRE(v.is_object());
  const auto& obj = v.as_object();
  const auto& def = schema.object(object);
  for (const auto* f : *def.fields()) {
    if (f->deprecated()) continue;
    std::string name = f->name()->str();
    CAPTURE(name);
    REQUIRE(obj.contains(name));
    ++checked;
    const auto& value = obj.at(name);
    auto bt = f->type()->base_type();
    if (bt == reflection::BaseType::Obj && !schema.object(f->type()->index()).is_struct() &&
        !value.is_null()) {
      check_every_field(schema, f->type()->index(), value, checked);
    } else if (bt == reflection::BaseType::Vector &&
               f->type()->element() == reflection::BaseType::Obj && value.is_array() &&
               !schema.object(f->type()->index()).is_struct()) {
      for (const auto& item : value.as_array()) {
        check_every_field(schema, f->type()->index(), item, checked);
      }
    } else if (bt == reflection::BaseType::Union) {
      auto type_name = obj.at(name + "_type").as_string();
      int member = schema.object_index(std::string("rmm.schema.") + type_name.c_str());
      REQUIRE(member >= 0);
      check_every_field(schema, member, value, checked);
    }
  }
}

std::size_t consumers_of(const test::NatsServerFixture& nats, const char* stream) {
  test::Publisher p(nats.url(), nats.services_creds().string());
  jsStreamInfo* si = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  REQUIRE(js_GetStreamInfo(&si, p.js->raw(), stream, nullptr, &jerr) == NATS_OK);
  std::size_t n = si->State.Consumers;
  jsStreamInfo_Destroy(si);
  return n;
}

}  // namespace

TEST_CASE("jsonl carries every schema field of a fully populated event") {
  test::NatsServerFixture nats;
  test::Publisher pub(nats.url(), nats.services_creds().string());
  auto agent = AgentId::generate(RealClock());
  pub.agent_event(agent, schema::Payload::MetricsSample, AgentSeq{1},
                  codec::build_metrics(header(agent, 1), test::full_metrics(12.5f)));
  codec::InventoryInfo inv;
  inv.hostname = "host-1";
  inv.interfaces = {{"eth0", "00:11:22:33:44:55", {"10.0.0.2/24"}}};
  inv.packages = {{"bash", "5.2", "amd64"}};
  inv.services = {{"ssh.service", "loaded", "active", "running"}};
  pub.agent_event(agent, schema::Payload::Inventory, AgentSeq{2},
                  codec::build_inventory(header(agent, 2), inv));

  replay::ExportStats stats;
  auto text = test::export_to_string(options_for(nats), &stats);
  auto lines = test::lines_of(text);
  REQUIRE(lines.size() == 2);
  CHECK(stats.written == 2);
  CHECK(stats.invalid == 0);

  auto schema = replay::SchemaJson::load(replay::events_bfbs());
  REQUIRE(schema.has_value());
  int checked = 0;
  for (const auto& line : lines) {
    auto v = boost::json::parse(line);
    const auto& o = v.as_object();
    CHECK(o.at("stream_seq").as_int64() > 0);
    CHECK(std::string(o.at("subject").as_string().c_str()).starts_with("rmm.p."));
    CHECK(std::string(o.at("stream_time").as_string().c_str()).ends_with("Z"));
    check_every_field(*schema, schema->root_object(), o.at("event"), checked);
  }
  // Envelope + MetricsSample and its lists + Inventory and its lists: well over 100 fields.
  CHECK(checked > 100);

  auto first = boost::json::parse(lines[0]).as_object().at("event").as_object();
  CHECK(first.at("source_id").as_string() == agent.str());
  CHECK(first.at("payload_type").as_string() == "MetricsSample");
  CHECK(first.at("lane").as_string() == "Ordered");
  const auto& m = first.at("payload").as_object();
  CHECK(m.at("cpu_percent").as_double() == doctest::Approx(12.5));
  CHECK(m.at("memory_total_bytes").as_int64() == (8ll << 30));
  CHECK(m.at("filesystems").as_array().size() == 2);
  CHECK(m.at("filesystems").as_array()[1].as_object().at("mount").as_string() == "/home");
  CHECK(m.at("temperatures").as_array()[0].as_object().at("celsius").as_double() ==
        doctest::Approx(45.5));
  CHECK(m.at("collection_errors").as_array()[0].as_string() == "sensors: none \"quoted\"");
}

TEST_CASE("filters by agent, type and time; the ordered consumer leaves nothing behind") {
  test::NatsServerFixture nats;
  test::Publisher pub(nats.url(), nats.services_creds().string());
  RealClock clock;
  std::vector<AgentId> agents;
  for (int i = 0; i < 3; ++i) agents.push_back(AgentId::generate(clock));
  auto publish_round = [&](std::uint64_t seq) {
    for (const auto& a : agents) {
      pub.agent_event(a, schema::Payload::MetricsSample, AgentSeq{seq},
                      codec::build_metrics(header(a, seq), test::full_metrics(1)));
      // Heartbeats count in their own lane: a distinct dedupe id.
      pub.agent_event(a, schema::Payload::Heartbeat, AgentSeq{seq + 1000},
                      codec::build_heartbeat(header(a, seq, schema::Lane::Presence), {}));
    }
  };
  publish_round(1);
  std::this_thread::sleep_for(50ms);
  UnixNanos middle = clock.now();
  std::this_thread::sleep_for(50ms);
  publish_round(2);

  auto count = [&](auto configure) {
    auto o = options_for(nats);
    configure(o.selection);
    return test::lines_of(test::export_to_string(o)).size();
  };
  CHECK(count([](replay::Selection&) {}) == 12);
  CHECK(count([&](replay::Selection& s) {
          s.agents = {agents[0]};
          s.agents_selected = true;
        }) == 4);
  CHECK(count([&](replay::Selection& s) {
          s.agents = {agents[0], agents[2]};
          s.agents_selected = true;
          s.types = {"heartbeat"};
        }) == 4);
  CHECK(count([&](replay::Selection& s) {
          s.agents_selected = true;  // a client with no agents
        }) == 0);
  CHECK(count([](replay::Selection& s) { s.types = {"metrics"}; }) == 6);
  CHECK(count([&](replay::Selection& s) { s.since = middle; }) == 6);
  CHECK(count([&](replay::Selection& s) { s.until = middle; }) == 6);
  CHECK(count([&](replay::Selection& s) {
          s.since = middle;
          s.types = {"heartbeat"};
          s.agents = {agents[1]};
          s.agents_selected = true;
        }) == 1);
  // Every export above used its own ordered consumer: none is left on the stream.
  std::size_t left = 1;
  for (int i = 0; i < 20 && left != 0; ++i) {
    left = consumers_of(nats, "RMM_EVENTS");
    if (left != 0) std::this_thread::sleep_for(100ms);
  }
  CHECK(left == 0);
}

TEST_CASE("csv rows match the samples, with per-filesystem detail") {
  test::NatsServerFixture nats;
  test::Publisher pub(nats.url(), nats.services_creds().string());
  auto agent = AgentId::generate(RealClock());
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    pub.agent_event(agent, schema::Payload::MetricsSample, AgentSeq{seq},
                    codec::build_metrics(header(agent, seq), test::full_metrics(seq * 10.0f)));
  }
  pub.agent_event(agent, schema::Payload::Heartbeat, AgentSeq{1001},
                  codec::build_heartbeat(header(agent, 1, schema::Lane::Presence), {}));
  auto o = options_for(nats);
  o.format = replay::Format::kCsv;
  auto lines = test::lines_of(test::export_to_string(o));
  REQUIRE(lines.size() == 6);  // header + 5 samples; the heartbeat is not a sample
  CHECK(lines[0].starts_with("stream_seq,stream_time,agent_id,seq,occurred_at,cpu_percent,"));
  CHECK(lines[0].find("memory_total_bytes") != std::string::npos);
  CHECK(lines[0].find("filesystems") == std::string::npos);  // lists are detail rows
  for (std::uint64_t seq = 1; seq <= 5; ++seq) {
    const auto& row = lines[seq];
    CAPTURE(row);
    CHECK(row.find(agent.str() + "," + std::to_string(seq) + ",") != std::string::npos);
    CHECK(row.find("Z," + std::to_string(seq * 10) + ",") != std::string::npos);
  }
  o.csv_detail = "filesystems";
  auto detail = test::lines_of(test::export_to_string(o));
  REQUIRE(detail.size() == 11);  // 2 filesystems per sample
  CHECK(
      detail[0].ends_with(",mount,fstype,device,used_bytes,total_bytes,inodes_used,inodes_total"));
  CHECK(detail[2].find(",/home,xfs,/dev/sda2,") != std::string::npos);
  o.csv_detail = "nonsense";
  CHECK_THROWS(test::export_to_string(o));
}

TEST_CASE("a raw archive re-imports into another server with the same events") {
  test::NatsServerFixture source;
  test::Publisher pub(source.url(), source.services_creds().string());
  RealClock clock;
  for (int i = 0; i < 3; ++i) {
    auto a = AgentId::generate(clock);
    for (std::uint64_t seq = 1; seq <= 4; ++seq) {
      pub.agent_event(a, schema::Payload::MetricsSample, AgentSeq{seq},
                      codec::build_metrics(header(a, seq), test::full_metrics(seq)));
    }
  }
  auto o = options_for(source);
  o.format = replay::Format::kRaw;
  std::string raw = test::export_to_string(o);
  CHECK(raw.starts_with(replay::kRawMagic));

  test::NatsServerFixture target;
  auto import_raw = [&]() {
    std::FILE* in = std::tmpfile();
    std::fwrite(raw.data(), 1, raw.size(), in);
    std::rewind(in);
    auto r = replay::run_import({.nats_url = target.url(),
                                 .nats_creds = target.services_creds().string(),
                                 .in = in,
                                 .progress = false});
    std::fclose(in);
    REQUIRE(r.has_value());
    return *r;
  };
  auto first = import_raw();
  CHECK(first.published == 12);
  CHECK(first.duplicates == 0);
  // The same Nats-Msg-Id: a second import inside the dedupe window stores nothing new.
  auto second = import_raw();
  CHECK(second.duplicates == 12);

  auto events_of = [](const test::NatsServerFixture& nats) {
    std::vector<std::string> out;
    for (const auto& line : test::lines_of(test::export_to_string(options_for(nats)))) {
      auto v = boost::json::parse(line).as_object();
      out.push_back(std::string(v.at("subject").as_string()) + " " +
                    boost::json::serialize(v.at("event")));
    }
    return out;
  };
  auto a = events_of(source);
  auto b = events_of(target);
  CHECK(a.size() == 12);
  CHECK(a == b);
}

TEST_CASE("--since with a fraction under 0.1 s keeps the events after it (nats.c time format)") {
  // nats.c 3.4.1 drops the leading zeros of OptStartTime's fraction: x.03 s would reach the server
  // as x.3 s and skip everything published in between.
  test::NatsServerFixture nats;
  test::Publisher pub(nats.url(), nats.services_creds().string());
  RealClock clock;
  auto agent = AgentId::generate(clock);
  pub.agent_event(agent, schema::Payload::Heartbeat, AgentSeq{1},
                  codec::build_heartbeat(header(agent, 1, schema::Lane::Presence), {}));
  // Wait (bounded: at most a second) for a moment just past a whole second.
  UnixNanos since = clock.now();
  for (int i = 0; i < 2000 && (since % 1'000'000'000) > 20'000'000; ++i) {
    std::this_thread::sleep_for(1ms);
    since = clock.now();
  }
  REQUIRE((since % 1'000'000'000) <= 20'000'000);
  std::this_thread::sleep_for(5ms);
  pub.agent_event(agent, schema::Payload::Heartbeat, AgentSeq{2},
                  codec::build_heartbeat(header(agent, 2, schema::Lane::Presence), {}));
  auto o = options_for(nats);
  o.selection.since = since;
  auto lines = test::lines_of(test::export_to_string(o));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("\"seq\":2,") != std::string::npos);
}

TEST_CASE("the control archive exports like a stream: every control event, no telemetry") {
  test::NatsServerFixture nats;
  test::Publisher pub(nats.url(), nats.services_creds().string());
  RealClock clock;
  const AgentId agent = AgentId::generate(clock);
  const auto source = *ControlSourceId::parse("0190a5c2-8888-7000-8000-000000000001");
  for (std::uint64_t i = 1; i <= 4; ++i) {
    pub.agent_event(agent, schema::Payload::MetricsSample, AgentSeq{i},
                    codec::build_metrics(header(agent, i), test::full_metrics(1)));
    codec::ControlEventHeader h{.event_id = EventId::generate(clock),
                                .source = source,
                                .source_name = "api",
                                .seq = i,
                                .occurred_at = clock.now()};
    auto bytes = codec::build_clock_tick(h, {static_cast<UnixNanos>(i) * 1'000'000'000});
    REQUIRE(pub.js
                ->publish(codec::control_event_subject(schema::Payload::ClockTick), bytes,
                          codec::control_msg_id(source, i), 5s)
                .has_value());
  }
  auto o = options_for(nats);
  o.stream = "RMM_CONTROL";
  std::vector<std::string> lines;
  for (int i = 0; i < 50 && lines.size() < 4; ++i) {
    lines = test::lines_of(test::export_to_string(o));
    if (lines.size() < 4) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(lines.size() == 4);
  for (const auto& line : lines) {
    auto v = boost::json::parse(line).as_object();
    CHECK(v.at("subject") == "rmm.ctl.clock.tick");
    CHECK(v.at("event").at("payload_type") == "ClockTick");
  }
}
