// The outbox publisher against a real nats-server: drains while connected, keeps everything
// through an outage, sends the heartbeat first on reconnect, and lands every sequence exactly once
// (also when the server is killed mid-drain and re-sends hit the dedupe window).
#include "agent/publisher/outbox_publisher.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <map>
#include <set>
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
// arrived or 30 s passed, then a little longer to catch duplicates. Every message must carry the
// msg id `ids` makes for its lane and sequence.
Landed read_back(const test::NatsServerFixture& server, const AgentId& agent,
                 const AgentMsgIds& ids, std::size_t expected) {
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
      if ((*env)->lane() == schema::Lane::Presence) {
        CHECK(id == ids.presence((*env)->seq()));
        out.heartbeats[(*env)->seq()] = stream_seq;
      } else {
        CHECK(id == ids.ordered(AgentSeq{(*env)->seq()}));
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
  const auto key = MsgIdKey::generate();
  auto publisher = agent::OutboxPublisher::create(**box, *conn, agent_id, key);
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
  auto landed = read_back(server, agent_id, AgentMsgIds(agent_id, key), kBefore + kDuring + 1);
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
  const auto key = MsgIdKey::generate();
  auto publisher = agent::OutboxPublisher::create(**box, *conn, agent_id, key);
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
  auto landed = read_back(server, agent_id, AgentMsgIds(agent_id, key), kEvents);
  check_exactly_once(landed, kEvents);
  const auto stats = (*publisher)->stats();
  CHECK(stats.acked >= kEvents);
  MESSAGE("resent " << stats.resent << ", duplicates " << stats.duplicates << ", reconnects "
                    << stats.reconnects);
  (*publisher)->stop();
}

// Issue 16 §3: JetStream's duplicate window is keyed by Nats-Msg-Id alone, stream-wide. Agent A,
// with its own minted credential, publishes on its own subject (all it may publish to) with every
// id of V's it can construct from public information: V's id and sequence numbers in the unkeyed
// form agents used before, and the keyed form made with A's own key or an all-zero key. V's real
// events must all still be stored. (With the unkeyed ids, all 300 events and the heartbeat were
// answered "duplicate" and deleted from V's outbox, and none reached the stream.)
TEST_CASE("another agent cannot make this agent's events duplicates") {
  test::NatsServerFixture server;
  test::TempDir dir("outbox-pub");
  RealClock clock;
  const auto victim = AgentId::generate(clock);
  const auto attacker = AgentId::generate(clock);
  constexpr std::uint64_t kEvents = 300, kHeartbeats = 10;

  auto a_conn = connect(server.url(), server.mint_agent(attacker), "_INBOX." + attacker.str());
  std::atomic<int> a_stored{0}, a_other{0};
  auto a_js = nats::JetStream::create(*a_conn,
                                      {.on_ack = [&](const std::string&, Result<nats::PubAck> ack) {
                                        (ack.has_value() && !ack->duplicate ? a_stored : a_other)++;
                                      }});
  REQUIRE(a_js.has_value());
  const auto a_subject = codec::agent_event_subject(attacker, schema::Payload::Heartbeat);
  const auto a_bytes = test::heartbeat_event(attacker, clock, 1);
  const std::vector<AgentMsgIds> guesses{AgentMsgIds(victim, MsgIdKey::generate()),
                                         AgentMsgIds(victim, MsgIdKey{})};
  std::set<std::string> forged;  // each id once: a repeat would be the attacker's own duplicate
  for (std::uint64_t s = 1; s <= kEvents + 10; ++s) {
    forged.insert(codec::agent_msg_id(victim, AgentSeq{s}));
    forged.insert(fmt::format("{}:{}:", victim.str(), s));
    for (const auto& g : guesses) forged.insert(g.ordered(AgentSeq{s}));
  }
  for (std::uint64_t n = 1; n <= kHeartbeats; ++n) {
    forged.insert(fmt::format("{}:hb:{}", victim.str(), n));
    for (const auto& g : guesses) forged.insert(g.presence(n));
  }
  for (const auto& id : forged) {
    REQUIRE((*a_js)->publish_async(a_subject, a_bytes, id).has_value());
  }
  REQUIRE((*a_js)->publish_async_complete(std::chrono::seconds(30)).has_value());
  // The broker stored every one under its id: they are all in the stream's dedupe window.
  REQUIRE(a_stored.load() == static_cast<int>(forged.size()));
  CHECK(a_other.load() == 0);

  auto v_conn = connect(server.url(), server.mint_agent(victim), "_INBOX." + victim.str());
  auto box = agent::Outbox::open(dir / "outbox", {}, clock);
  REQUIRE(box.has_value());
  const auto key = MsgIdKey::generate();
  auto publisher = agent::OutboxPublisher::create(**box, *v_conn, victim, key);
  REQUIRE(publisher.has_value());
  REQUIRE((*publisher)->start().has_value());
  for (std::uint64_t i = 0; i < kEvents; ++i) {
    test::append_event(**box, victim, clock, EventClass::kDurable);
    if (i % (kEvents / kHeartbeats) == 0) {
      REQUIRE((*box)
                  ->put_heartbeat(
                      [&](std::uint64_t n) { return test::heartbeat_event(victim, clock, n); })
                  .has_value());
      // Each heartbeat is sent before the next replaces it.
      REQUIRE(wait_until([&] { return !(*box)->pending_heartbeat(); }, std::chrono::seconds(10)));
    }
  }
  REQUIRE(wait_until([&] { return (*box)->depth() == 0; }, std::chrono::seconds(30)));
  const auto stats = (*publisher)->stats();
  (*publisher)->stop();
  CHECK(stats.duplicates == 0);
  CHECK(stats.unexpected_duplicates == 0);
  CHECK(stats.heartbeats_acked == kHeartbeats);
  auto landed = read_back(server, victim, AgentMsgIds(victim, key), kEvents + kHeartbeats);
  check_exactly_once(landed, kEvents);
  CHECK(landed.heartbeats.size() == kHeartbeats);
}

// A duplicate is expected for events an earlier run may have sent (appended before start()), and
// impossible for later ones unless something else holds the agent's key (a cloned state dir): those
// are counted apart, and still deleted (a re-send under the same id would be a duplicate again).
TEST_CASE("a duplicate answer to an event's first send is counted as unexpected") {
  test::NatsServerFixture server;
  test::TempDir dir("outbox-pub");
  RealClock clock;
  const auto agent_id = AgentId::generate(clock);
  const auto key = MsgIdKey::generate();
  const AgentMsgIds ids(agent_id, key);
  auto conn = connect(server.url(), server.mint_agent(agent_id), "_INBOX." + agent_id.str());
  auto box = agent::Outbox::open(dir / "outbox", {}, clock);
  REQUIRE(box.has_value());
  auto build_hb = [&](std::uint64_t n) { return test::heartbeat_event(agent_id, clock, n); };
  for (int i = 0; i < 5; ++i) test::append_event(**box, agent_id, clock, EventClass::kDurable);
  REQUIRE((*box)->put_heartbeat(build_hb).has_value());

  // The clone (or the previous run, for 1..5 and heartbeat 1) published these ids already.
  {
    auto clone = connect(server.url(), server.mint_agent(agent_id), "_INBOX." + agent_id.str());
    auto js = nats::JetStream::create(*clone, {});
    REQUIRE(js.has_value());
    const auto hb_subject = codec::agent_event_subject(agent_id, schema::Payload::Heartbeat);
    const auto bytes = test::heartbeat_event(agent_id, clock, 1);
    for (std::uint64_t s = 1; s <= 10; ++s) {
      auto ack =
          (*js)->publish(hb_subject, bytes, ids.ordered(AgentSeq{s}), std::chrono::seconds(5));
      REQUIRE(ack.has_value());
    }
    for (std::uint64_t n = 1; n <= 2; ++n) {
      REQUIRE((*js)->publish(hb_subject, bytes, ids.presence(n), std::chrono::seconds(5)));
    }
  }

  auto publisher = agent::OutboxPublisher::create(**box, *conn, agent_id, key);
  REQUIRE(publisher.has_value());
  REQUIRE((*publisher)->start().has_value());
  REQUIRE(wait_until([&] { return (*box)->depth() == 0 && !(*box)->pending_heartbeat(); },
                     std::chrono::seconds(10)));
  CHECK((*publisher)->stats().duplicates == 5);
  CHECK((*publisher)->stats().unexpected_duplicates == 0);

  for (int i = 0; i < 5; ++i) test::append_event(**box, agent_id, clock, EventClass::kDurable);
  REQUIRE((*box)->put_heartbeat(build_hb).has_value());
  REQUIRE(wait_until([&] { return (*box)->depth() == 0 && !(*box)->pending_heartbeat(); },
                     std::chrono::seconds(10)));
  const auto stats = (*publisher)->stats();
  (*publisher)->stop();
  CHECK(stats.duplicates == 10);
  CHECK(stats.unexpected_duplicates == 6);  // sequences 6..10 and heartbeat 2
  CHECK(stats.acked == 10);
}
