// The outbox publisher against a real nats-server: drains while connected, keeps everything
// through an outage, sends the heartbeat first on reconnect, and lands every sequence exactly once
// (also when the server is killed mid-drain and re-sends hit the dedupe window).
#include "agent/publisher/outbox_publisher.h"

#include <doctest/doctest.h>

#include <map>
#include <thread>

#include "common/event_codec.h"
#include "tests/agent/outbox_test_util.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using agent::EventClass;

namespace {

struct Landed {
  std::map<std::uint64_t, int> ordered;            // agent seq -> copies in the stream
  std::vector<std::uint64_t> ordered_stream_seqs;  // stream seq of each ordered message, in order
  std::vector<std::uint64_t> order;                // agent seqs in stream order
  std::map<std::uint64_t, std::uint64_t> heartbeats;  // presence counter -> stream seq
};

std::unique_ptr<nats::Connection> connect(const std::string& url,
                                          const std::filesystem::path& creds,
                                          const std::string& inbox_prefix) {
  nats::ConnectOptions o;
  o.url = url;
  o.creds_file = creds.string();
  o.inbox_prefix = inbox_prefix;
  o.name = "outbox-publisher-test";
  o.reconnect_wait = std::chrono::milliseconds(100);
  o.retry_on_failed_connect = true;
  auto c = nats::Connection::connect(o);
  REQUIRE_MESSAGE(c.has_value(), (c ? "" : c.error().message));
  return std::move(*c);
}

// Reads this agent's messages of RMM_EVENTS with the services credential until `expected`
// arrived or 30 s passed, then a little longer to catch duplicates.
Landed read_back(const test::NatsServerFixture& server, const AgentId& agent,
                 std::size_t expected) {
  auto conn = connect(server.url(), server.services_creds(), "");
  auto js = nats::JetStream::create(*conn, {});
  REQUIRE(js.has_value());
  nats::PullConsumerSettings cs;
  cs.stream = "RMM_EVENTS";
  cs.durable = "outbox_test_" + std::to_string(::getpid());
  cs.filter_subject = "rmm.p.*.evt." + agent.str() + ".*";
  cs.ack_all = true;
  auto sub = (*js)->pull_subscribe(cs);
  REQUIRE_MESSAGE(sub.has_value(), (sub ? "" : sub.error().message));
  Landed out;
  std::size_t total = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool extra_round = false;
  while (std::chrono::steady_clock::now() < deadline) {
    auto msgs = (*sub)->fetch(1000, std::chrono::milliseconds(500));
    REQUIRE(msgs.has_value());
    if (msgs->empty()) {
      if (total >= expected) {
        if (extra_round) break;
        extra_round = true;
      }
      continue;
    }
    for (auto& m : *msgs) {
      // A NATS payload follows its headers at any address: copy it so FlatBuffers reads aligned.
      const std::vector<std::uint8_t> bytes(m.data().begin(), m.data().end());
      auto env = codec::verify_event(bytes);
      REQUIRE(env.has_value());
      const auto id = m.header("Nats-Msg-Id").value_or("");
      const auto stream_seq = m.stream_seq().value_or(StreamSeq{}).value;
      if (id.find(":hb:") != std::string::npos) {
        out.heartbeats[(*env)->seq()] = stream_seq;
      } else {
        CHECK(id == codec::agent_msg_id(agent, AgentSeq{(*env)->seq()}));
        out.ordered[(*env)->seq()]++;
        out.order.push_back((*env)->seq());
        out.ordered_stream_seqs.push_back(stream_seq);
      }
      ++total;
    }
    REQUIRE(msgs->back().ack().has_value());
  }
  return out;
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

void check_exactly_once(const Landed& landed, std::uint64_t n) {
  CHECK(landed.ordered.size() == n);
  std::uint64_t missing = 0, duplicated = 0;
  for (std::uint64_t s = 1; s <= n; ++s) {
    auto it = landed.ordered.find(s);
    if (it == landed.ordered.end()) {
      ++missing;
    } else if (it->second != 1) {
      ++duplicated;
    }
  }
  CHECK_MESSAGE(missing == 0, missing << " sequences missing from the stream");
  CHECK_MESSAGE(duplicated == 0, duplicated << " sequences stored more than once");
}

}  // namespace

TEST_CASE("the publisher drains, survives an outage, and sends the heartbeat first on return") {
  test::NatsServerFixture server;
  test::TempDir dir("outbox-pub");
  RealClock clock;
  const auto agent_id = AgentId::generate(clock);
  auto conn = connect(server.url(), server.mint_agent(agent_id), "_INBOX." + agent_id.str());
  auto box = agent::Outbox::open(dir / "outbox", {}, clock);
  REQUIRE(box.has_value());
  auto publisher = agent::OutboxPublisher::create(**box, *conn, agent_id);
  REQUIRE(publisher.has_value());
  REQUIRE((*publisher)->start().has_value());

  // Connected: appends are picked up without a restart of the publisher.
  constexpr std::uint64_t kBefore = 200;
  for (std::uint64_t i = 0; i < kBefore; ++i) {
    test::append_event(**box, agent_id, clock,
                       i % 3 ? EventClass::kDroppable : EventClass::kDurable);
  }
  REQUIRE(wait_until([&] { return (*box)->depth() == 0; }, std::chrono::seconds(20)));
  CHECK((*publisher)->stats().acked == kBefore);

  // Outage: everything appended meanwhile stays in the outbox.
  server.stop();
  REQUIRE(wait_until([&] { return !conn->connected(); }, std::chrono::seconds(10)));
  constexpr std::uint64_t kDuring = 20'000;
  for (std::uint64_t i = 0; i < kDuring; ++i) {
    test::append_event(**box, agent_id, clock,
                       i % 3 ? EventClass::kDroppable : EventClass::kDurable);
  }
  auto build_hb = [&](std::uint64_t n) { return test::heartbeat_event(agent_id, clock, n); };
  REQUIRE((*box)->put_heartbeat(build_hb).has_value());
  REQUIRE((*box)->put_heartbeat(build_hb).has_value());  // replaces the first: only one is sent
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK((*box)->depth() == kDuring);
  CHECK((*box)->oldest_unsent_age() > std::chrono::nanoseconds(0));

  server.restart();
  REQUIRE(wait_until([&] { return (*box)->depth() == 0 && !(*box)->pending_heartbeat(); },
                     std::chrono::seconds(60)));
  auto landed = read_back(server, agent_id, kBefore + kDuring + 1);
  check_exactly_once(landed, kBefore + kDuring);
  CHECK(std::is_sorted(landed.order.begin(), landed.order.end()));
  REQUIRE(landed.heartbeats.size() == 1);
  CHECK(landed.heartbeats.begin()->first == 2);
  // The presence lane went ahead of the whole backlog.
  const auto hb_stream_seq = landed.heartbeats.begin()->second;
  CHECK(hb_stream_seq < landed.ordered_stream_seqs.at(kBefore));
  auto report = (*box)->take_drop_report();
  REQUIRE(report.has_value());
  CHECK(report->replaced_heartbeats == 1);
  CHECK(report->dropped_events == 0);
  (*publisher)->stop();
}

TEST_CASE("a server killed mid-drain: re-sends are deduplicated, nothing is lost") {
  test::NatsServerFixture server;
  test::TempDir dir("outbox-pub");
  RealClock clock;
  const auto agent_id = AgentId::generate(clock);
  auto conn = connect(server.url(), server.mint_agent(agent_id), "_INBOX." + agent_id.str());
  auto box = agent::Outbox::open(dir / "outbox", {}, clock);
  REQUIRE(box.has_value());
  constexpr std::uint64_t kEvents = 60'000;
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    test::append_event(**box, agent_id, clock, EventClass::kDurable);
  }
  auto publisher = agent::OutboxPublisher::create(**box, *conn, agent_id);
  REQUIRE(publisher.has_value());
  REQUIRE((*publisher)->start().has_value());
  REQUIRE(wait_until([&] { return (*publisher)->stats().acked >= kEvents / 4; },
                     std::chrono::seconds(30)));
  server.kill9();
  const auto left = (*box)->depth();
  CHECK(left > 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  server.restart();
  REQUIRE(wait_until([&] { return (*box)->depth() == 0; }, std::chrono::seconds(90)));
  auto landed = read_back(server, agent_id, kEvents);
  check_exactly_once(landed, kEvents);
  const auto stats = (*publisher)->stats();
  CHECK(stats.acked >= kEvents);
  MESSAGE("resent " << stats.resent << ", duplicates " << stats.duplicates << ", reconnects "
                    << stats.reconnects);
  (*publisher)->stop();
}
