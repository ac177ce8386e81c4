// A site's leaf node (issue 17 §4, admin/leaf_config.h) with real nats-servers on loopback: the
// site's agents publish to the leaf; its link to the hub is cut for 60 s under load and restored;
// every event the leaf acknowledged then lands in the hub's RMM_EVENTS exactly once (by
// Nats-Msg-Id, and by agent sequence for the real rmm-agent), only through the sourced
// RMM_SITE_EVENTS; and a command published on the hub, before and during the cut, reaches the
// agent through the leaf and runs.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "admin/stream_report.h"
#include "admin/streams.h"
#include "common/files.h"
#include "common/nats_jetstream.h"
#include "common/nats_message.h"
#include "tests/agent/commands_test_util.h"
#include "tests/broker/test_client.h"
#include "tests/fixtures/leaf_node.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/fixtures/tcp_relay.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/projector/e2e_helpers.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr auto kOutage = 60s;

std::unique_ptr<nats::Connection> connect(const std::string& url, const fs::path& creds,
                                          const std::string& inbox_prefix = {}) {
  nats::ConnectOptions o;
  o.url = url;
  o.creds_file = creds.string();
  o.inbox_prefix = inbox_prefix;
  auto c = nats::Connection::connect(o);
  REQUIRE_MESSAGE(c.has_value(), (c ? std::string() : c.error().message));
  return std::move(*c);
}

std::uint64_t stream_messages(natsConnection* nc, const std::string& stream) {
  auto info = broker::js_api_request(nc, "$JS.API.STREAM.INFO." + stream, "", 5s);
  REQUIRE_MESSAGE(info.has_value(), info.error().message);
  return info->at("state").as_object().at("messages").to_number<std::uint64_t>();
}

// An agent of the site publishing as fast as its acks come back (one in flight, as a slow
// link's agent would): metrics samples with agent sequences 1, 2, ..., each re-sent with the same
// Nats-Msg-Id until acknowledged.
class LoadPublisher {
 public:
  LoadPublisher(const std::string& url, const fs::path& creds, const AgentId& agent)
      : agent_(agent), conn_(connect(url, creds, broker::agent_inbox_prefix(agent))) {
    auto js = nats::JetStream::create(*conn_, {});
    REQUIRE(js.has_value());
    js_ = std::move(*js);
    thread_ = std::thread([this] { run(); });
  }
  ~LoadPublisher() { stop(); }
  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::uint64_t acked() const { return acked_.load(); }
  std::uint64_t resends() const { return resends_.load(); }
  static std::string msg_id(const AgentId& agent, std::uint64_t n) {
    return codec::agent_msg_id(agent, AgentSeq{n});
  }

 private:
  void run() {
    const std::string subject = codec::agent_event_subject(agent_, schema::Payload::MetricsSample);
    std::uint64_t n = 1;
    while (!stopping_) {
      const auto body = codec::build_metrics(
          e2e_header(agent_, n), codec::MetricsInfo{.cpu_percent = static_cast<float>(n % 100)});
      auto ack = js_->publish(subject, body, msg_id(agent_, n), 2s);
      if (!ack) {
        ++resends_;
        std::this_thread::sleep_for(50ms);
        continue;
      }
      acked_ = n++;
      std::this_thread::sleep_for(1ms);
    }
  }

  AgentId agent_;
  std::unique_ptr<nats::Connection> conn_;
  std::unique_ptr<nats::JetStream> js_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> acked_{0};
  std::atomic<std::uint64_t> resends_{0};
  std::thread thread_;
};

struct HubMessage {
  std::string subject;
  std::string msg_id;
  std::string source;  // Nats-Stream-Source: set on what RMM_EVENTS got by sourcing
};

// Every message of the hub's RMM_EVENTS, through a throwaway consumer.
std::vector<HubMessage> hub_messages(const NatsServerFixture& hub) {
  static std::atomic<int> readers{0};
  auto conn = connect(hub.url(), hub.services_creds());
  auto js = nats::JetStream::create(*conn, {});
  REQUIRE(js.has_value());
  nats::PullConsumerSettings cs;
  cs.stream = "RMM_EVENTS";
  cs.durable = fmt::format("leaf_reader_{}_{}", ::getpid(), readers++);
  auto sub = (*js)->pull_subscribe(cs);
  REQUIRE(sub.has_value());
  std::vector<HubMessage> out;
  while (true) {
    auto msgs = (*sub)->fetch(1000, 500ms);
    REQUIRE(msgs.has_value());
    if (msgs->empty()) return out;
    for (auto& m : *msgs) {
      out.push_back({std::string(m.subject()), m.header("Nats-Msg-Id").value_or(""),
                     m.header("Nats-Stream-Source").value_or("")});
      (void)m.ack();
    }
  }
}

std::size_t completed(const NatsServerFixture& hub, const AgentId& agent) {
  std::size_t n = 0;
  for (const auto& e : read_agent_events(hub, agent, 1, 5s)) {
    n += e.type == schema::Payload::CommandCompleted ? 1 : 0;
  }
  return n;
}

bool wait_for(std::chrono::seconds limit, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(500ms);
  }
  return true;
}

}  // namespace

TEST_CASE("a site's leaf node: 60 s without its hub under load, then every event once; commands") {
  // The link to the hub goes through a relay the test cuts; the hub names the relay as the
  // address leaves reconnect to (nats-server tells them, and they would go around the cut).
  const int link_port = free_tcp_port();
  NatsServerFixture hub(
      {.leafnodes = true, .leafnode_advertise = fmt::format("127.0.0.1:{}", link_port)});
  TcpRelay link(hub.leafnode_port(), link_port);
  LeafNodeFixture leaf(hub, "site1", link.port());
  REQUIRE(leaf.wait_linked(20s));
  TempDir dir("leaf-site");
  auto services = connect(hub.url(), hub.services_creds());
  auto leaf_conn = connect(leaf.url(), leaf.creds());
  const auto command_key = hub.command_signer().key;
  // The projector folds RMM_EVENTS on the hub as always: sourced events are events like others.
  auto& pg = PostgresFixture::shared();
  const std::string pg_url = pg.create_database(pg.unique_name("leaf_site"));
  Process projector = start_projector(hub, pg_url, dir, 1, {"--batch-size=1000"});

  // The real agent at the site: connected to the leaf, its commands from the hub's domain.
  const AgentId agent = AgentId::generate(real_clock());
  fs::path state = dir / "agent";
  fs::create_directories(state);
  fs::copy_file(hub.mint_agent(agent), state / "agent.creds");  // and its consumer on the hub
  REQUIRE(files::write_atomic(state / "agent_id", agent.str() + "\n").has_value());
  hub.write_agent_command_keys(state);
  Process agent_process =
      Process::start({std::string(RMM_BIN_DIR) + "/rmm-agent",
                      {"--state-dir", state.string(), "--nats-url", leaf.url(), "--nats-js-domain",
                       "hub", "--metrics-interval", "1s", "--heartbeat-interval", "1s"},
                      {},
                      dir / "agent.log"});

  // Load from a second agent of the site.
  const AgentId loader = AgentId::generate(real_clock());
  LoadPublisher load(leaf.url(), hub.mint_agent(loader), loader);

  // A command published on the hub reaches the agent through the leaf; its result comes back
  // through the site's stream.
  REQUIRE(publish_command(services->raw(), agent, shell_command("echo before"), command_key)
              .has_value());
  CHECK(wait_for(30s, [&] { return completed(hub, agent) >= 1; }));
  REQUIRE(load.acked() > 0);

  // The cut: the leaf's link drops and its reconnects are refused for 60 s.
  link.cut();
  std::this_thread::sleep_for(3s);
  const std::uint64_t hub_at_cut = stream_messages(services->raw(), "RMM_EVENTS");
  const std::uint64_t site_at_cut = stream_messages(leaf_conn->raw(), "RMM_SITE_EVENTS");
  const std::uint64_t acked_at_cut = load.acked();
  REQUIRE(publish_command(services->raw(), agent, shell_command("echo during"), command_key)
              .has_value());
  std::this_thread::sleep_for(kOutage - 3s);
  // Nothing crossed, the leaf kept acknowledging and storing.
  CHECK(stream_messages(services->raw(), "RMM_EVENTS") == hub_at_cut);
  CHECK(stream_messages(leaf_conn->raw(), "RMM_SITE_EVENTS") > site_at_cut + 1000);
  CHECK(load.acked() > acked_at_cut + 1000);
  MESSAGE("during the cut the leaf acknowledged ", load.acked() - acked_at_cut,
          " load events and stored ",
          stream_messages(leaf_conn->raw(), "RMM_SITE_EVENTS") - site_at_cut, " events");
  CHECK(completed(hub, agent) == 1);
  REQUIRE(agent_process.running());
  link.restore();
  const auto restored = std::chrono::steady_clock::now();
  REQUIRE(leaf.wait_linked(30s));

  // The command published during the cut runs once the link is back.
  CHECK(wait_for(60s, [&] { return completed(hub, agent) >= 2; }));
  std::this_thread::sleep_for(5s);  // load after the link returned, too
  load.stop();
  CHECK(agent_process.terminate() == 0);

  // The hub catches up with everything the site stored.
  std::uint64_t site_total = stream_messages(leaf_conn->raw(), "RMM_SITE_EVENTS");
  CHECK(
      wait_for(60s, [&] { return stream_messages(services->raw(), "RMM_EVENTS") >= site_total; }));
  MESSAGE(
      "hub caught up within ",
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - restored)
          .count(),
      " s of the link's return; ", load.acked(), " load events acknowledged, ", load.resends(),
      " re-sent; ", site_total, " stored at the site");

  const auto messages = hub_messages(hub);
  CHECK(messages.size() == site_total);
  std::map<std::string, int> copies;
  std::size_t not_sourced = 0;
  std::int64_t loader_events = 0;
  for (const auto& m : messages) {
    copies[m.msg_id]++;
    not_sourced += m.source.empty() ? 1 : 0;
    loader_events += m.subject.find(loader.str()) != std::string::npos ? 1 : 0;
  }
  CHECK_MESSAGE(not_sourced == 0, not_sourced << " events reached the hub other than by sourcing");
  std::uint64_t missing = 0, duplicated = 0;
  for (std::uint64_t n = 1; n <= load.acked(); ++n) {
    auto it = copies.find(LoadPublisher::msg_id(loader, n));
    if (it == copies.end()) {
      ++missing;
    } else if (it->second > 1) {
      ++duplicated;
    }
  }
  CHECK_MESSAGE(missing == 0, missing << " acknowledged load events missing at the hub");
  CHECK_MESSAGE(duplicated == 0, duplicated << " load events stored twice at the hub");
  for (const auto& [id, n] : copies) CHECK_MESSAGE(n == 1, id << " stored " << n << " times");

  // The real agent: every sequence it got acknowledged by the leaf, once and in order.
  std::map<std::uint64_t, int> seqs;
  std::vector<std::uint64_t> order;
  for (const auto& e : read_agent_events(hub, agent, 60, 20s)) {
    if (e.lane != schema::Lane::Ordered) continue;
    seqs[e.seq]++;
    order.push_back(e.seq);
  }
  const std::uint64_t landed = seqs.empty() ? 0 : seqs.rbegin()->first;
  CHECK(landed >= 60);
  std::uint64_t agent_missing = 0, agent_twice = 0;
  for (std::uint64_t s = 1; s <= landed; ++s) {
    if (!seqs.contains(s)) {
      ++agent_missing;
    } else if (seqs[s] > 1) {
      ++agent_twice;
    }
  }
  CHECK_MESSAGE(agent_missing == 0, agent_missing << " agent sequences missing");
  CHECK_MESSAGE(agent_twice == 0, agent_twice << " agent sequences stored twice");
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(completed(hub, agent) == 2);

  // The read models: everything folded once, no sequence gap, both commands completed.
  std::int64_t agent_samples = 0;
  for (const auto& e : read_agent_events(hub, agent, 1, 5s)) {
    agent_samples += e.type == schema::Payload::MetricsSample ? 1 : 0;
  }
  const auto last_seq = static_cast<std::int64_t>(StreamReader(hub).state("RMM_EVENTS").last_seq);
  pqxx::connection db(pg_url);
  CHECK(wait_for(120s, [&] { return checkpoint(db) >= last_seq; }));
  CHECK(projector.running());
  auto rows = [&](const std::string& sql) { return scalar(db, sql).value_or(-1); };
  const std::string loader_id = "'" + loader.str() + "'";
  const std::string agent_id = "'" + agent.str() + "'";
  CHECK(rows("SELECT count(*) FROM metrics WHERE agent_id = " + loader_id) == loader_events);
  CHECK(rows("SELECT count(*) FROM agent_sequence_gaps WHERE agent_id = " + loader_id) == 0);
  CHECK(rows("SELECT count(*) FROM metrics WHERE agent_id = " + agent_id) == agent_samples);
  CHECK(rows("SELECT count(*) FROM agent_sequence_gaps WHERE agent_id = " + agent_id) == 0);
  CHECK(rows("SELECT count(*) FROM commands WHERE status = 'completed' AND agent_id = " +
             agent_id) == 2);
  CHECK(rows("SELECT count(*) FROM dead_letters") == 0);
}

TEST_CASE(
    "an event the hub already holds is not stored again when its agent re-sends it at a site") {
  // An agent moved to a site re-sends to the leaf an event whose ack the hub's reply never gave
  // it: the sourced copy carries the same Nats-Msg-Id, which RMM_EVENTS's window drops.
  NatsServerFixture hub({.leafnodes = true});
  LeafNodeFixture leaf(hub, "site2", hub.leafnode_port());
  REQUIRE(leaf.wait_linked(20s));
  auto leaf_conn = connect(leaf.url(), leaf.creds());
  const AgentId agent = AgentId::generate(real_clock());
  const fs::path creds = hub.mint_agent(agent);
  const std::string subject = fmt::format("rmm.evt.{}.load", agent.str());
  const std::string body = "moved";
  // Publishes as the agent at `url`; whether the stream took it as a duplicate.
  auto publish_at = [&](const std::string& url, const std::string& msg_id) {
    auto conn = connect(url, creds, broker::agent_inbox_prefix(agent));
    auto js = nats::JetStream::create(*conn, {});
    REQUIRE(js.has_value());
    auto ack = (*js)->publish(
        subject, {reinterpret_cast<const std::uint8_t*>(body.data()), body.size()}, msg_id, 5s);
    REQUIRE_MESSAGE(ack.has_value(), ack.error().message);
    return ack->duplicate;
  };
  CHECK_FALSE(publish_at(hub.url(), agent.str() + "-moved-1"));
  // Each stream stores its first copy; a second event shows the source passed the first.
  CHECK_FALSE(publish_at(leaf.url(), agent.str() + "-moved-1"));
  CHECK_FALSE(publish_at(leaf.url(), agent.str() + "-moved-2"));
  CHECK(stream_messages(leaf_conn->raw(), "RMM_SITE_EVENTS") == 2);
  CHECK(wait_for(20s, [&] {
    for (const auto& m : hub_messages(hub)) {
      if (m.msg_id == agent.str() + "-moved-2") return true;
    }
    return false;
  }));
  std::map<std::string, int> copies;
  for (const auto& m : hub_messages(hub)) copies[m.msg_id]++;
  CHECK(copies[agent.str() + "-moved-1"] == 1);
  CHECK(copies[agent.str() + "-moved-2"] == 1);
}

TEST_CASE("a leaf's credential writes no control events and reads no hub stream") {
  NatsServerFixture hub({.leafnodes = true});
  LeafNodeFixture leaf(hub, "site3", hub.leafnode_port());
  REQUIRE(leaf.wait_linked(20s));
  // The credential's rights are the same wherever it connects: at the hub, as a client.
  natsStatus status = NATS_OK;
  auto client = TestClient::connect(hub.url(), leaf.creds(), {}, &status);
  REQUIRE(client != nullptr);
  const std::string body = "{}";
  for (const char* subject : {"rmm.ctl.tenancy.forged", "rmm.cmd.forged", "rmm.p.1.evt.x.y"}) {
    CHECK(natsConnection_PublishString(client->nc(), subject, body.c_str()) == NATS_OK);
  }
  REQUIRE(client->wait_for_errors(3, 5s));
  for (const auto& e : client->errors()) {
    CHECK(e.find("Permissions Violation for Publish") != std::string::npos);
  }
  auto info = broker::js_api_request(client->nc(), "$JS.API.STREAM.INFO.RMM_EVENTS", "", 1s);
  CHECK_FALSE(info.has_value());  // denied: looks like a timeout
  auto services = connect(hub.url(), hub.services_creds());
  CHECK(stream_messages(services->raw(), "RMM_EVENTS") == 0);

  // At the leaf, it reads its own stream's usage (rmm-admin stream-usage).
  auto at_leaf = broker::connect_with_creds(leaf.url(), leaf.creds());
  REQUIRE(at_leaf.has_value());
  auto names = broker::stream_names(fs::path(RMM_SOURCE_DIR) / "broker-config" / "site-streams");
  REQUIRE(names.has_value());
  auto report = broker::stream_usage_report(*at_leaf, *names, {}, real_clock().now());
  natsConnection_Destroy(*at_leaf);
  REQUIRE_MESSAGE(report.has_value(), report.error().message);
  CHECK(report->healthy);
  CHECK(report->text.find("RMM_SITE_EVENTS") != std::string::npos);
}

TEST_CASE("the leaf's link over TLS, pinned to the installation's CA") {
  NatsServerFixture hub({.tls = true, .leafnodes = true});
  LeafNodeFixture leaf(hub, "site4", hub.leafnode_port());
  REQUIRE(leaf.wait_linked(20s));
  const AgentId agent = AgentId::generate(real_clock());
  auto conn = connect(leaf.url(), hub.mint_agent(agent), broker::agent_inbox_prefix(agent));
  auto js = nats::JetStream::create(*conn, {});
  REQUIRE(js.has_value());
  const auto body = codec::build_metrics(e2e_header(agent, 1), codec::MetricsInfo{});
  auto ack = (*js)->publish(codec::agent_event_subject(agent, schema::Payload::MetricsSample), body,
                            codec::agent_msg_id(agent, AgentSeq{1}), 5s);
  REQUIRE_MESSAGE(ack.has_value(), ack.error().message);
  CHECK(ack->stream == "RMM_SITE_EVENTS");
  CHECK(read_agent_events(hub, agent, 1, 20s).size() == 1);
}

TEST_CASE("an agent at a site reads a release from the hub's RMM_RELEASES through the leaf") {
  NatsServerFixture hub({.leafnodes = true});
  LeafNodeFixture leaf(hub, "site5", hub.leafnode_port());
  REQUIRE(leaf.wait_linked(20s));
  auto services = connect(hub.url(), hub.services_creds());
  const std::string body = "a signed manifest";
  natsMsg* reply = nullptr;
  REQUIRE(natsConnection_Request(&reply, services->raw(), "rmm.rel.test.manifest", body.data(),
                                 static_cast<int>(body.size()), 5000) == NATS_OK);
  natsMsg_Destroy(reply);
  // As rmm-updater with --nats-js-domain hub does it (updater/fetch.cc), with the agent's rights.
  const AgentId agent = AgentId::generate(real_clock());
  auto conn = connect(leaf.url(), hub.mint_agent(agent), broker::agent_inbox_prefix(agent));
  reply = nullptr;
  REQUIRE(natsConnection_Request(&reply, conn->raw(),
                                 "$JS.hub.API.DIRECT.GET.RMM_RELEASES.rmm.rel.test.manifest",
                                 nullptr, 0, 5000) == NATS_OK);
  nats::Message msg(reply);
  CHECK_FALSE(msg.header("Status").has_value());
  CHECK(std::string(reinterpret_cast<const char*>(msg.data().data()), msg.data().size()) == body);
  CHECK(conn->async_error_count() == 0);
}
