// GuruRMM on a three-node NATS cluster (issue #17, §1 and the first kill test of §5), with real
// nats-servers on loopback configured by render_server_config as production is (mutual TLS on
// the routes): an R1 stream moves to R3 by applying the streams again; under load from agent
// publishers (agent credentials, every node's URL, re-send with the same Nats-Msg-Id until
// acknowledged, as the outbox does), the RMM_EVENTS leader is killed with SIGKILL and restarted.
// Every acknowledged event must be in the stream exactly once, every publisher must carry on
// through the other nodes, and the killed node must rejoin as a current replica; rmm-projector,
// given every node's URL, must fold each acknowledged event into the read models once.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <boost/json/object.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <pqxx/nontransaction>
#include <set>
#include <thread>

#include "admin/command_consumer.h"
#include "admin/streams.h"
#include "common/clock.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/pg.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/postgres.h"
#include "tests/fixtures/projector_process.h"
#include "tests/fixtures/stream_reader.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace std::chrono_literals;
namespace json = boost::json;
using test::NatsCluster;
using test::NatsServerFixture;

namespace {

constexpr auto kWaitLimit = 40s;  // elections, catch-up: every wait below is bounded by this

// A JetStream API request as the services user to `urls` (a node of `server`'s identity);
// nullopt when it fails.
std::optional<json::object> js_info_at(const std::string& urls, const NatsServerFixture& server,
                                       const std::string& subject) {
  auto nc = broker::connect_with_creds(urls, server.services_creds(), server.tls());
  if (!nc) return std::nullopt;
  auto info = broker::js_api_request(*nc, subject, "", 2s);
  natsConnection_Destroy(*nc);
  if (!info) return std::nullopt;
  return std::move(*info);
}

// STREAM.INFO (or CONSUMER.INFO) through any live node; nullopt while the cluster cannot answer
// (right after a node dies, the JetStream API can time out until leaders are re-elected).
std::optional<json::object> js_info(const NatsCluster& cluster, const std::string& subject) {
  std::string urls;
  for (const auto& node : cluster) {
    if (node->running()) urls += (urls.empty() ? "" : ",") + node->url();
  }
  return js_info_at(urls, *cluster.front(), subject);
}

struct Placement {
  std::string leader;
  std::vector<std::string> current;  // replicas (not the leader) that are current
  std::size_t replicas = 0;          // replicas listed (not the leader)
  std::uint64_t messages = 0;
};

std::optional<Placement> placement(const json::object& info) {
  const auto* cluster = info.if_contains("cluster");
  if (cluster == nullptr || !cluster->is_object()) return std::nullopt;
  Placement p;
  if (const auto* l = cluster->as_object().if_contains("leader"); l != nullptr && l->is_string()) {
    p.leader = std::string(l->as_string());
  }
  if (const auto* r = cluster->as_object().if_contains("replicas"); r != nullptr && r->is_array()) {
    for (const auto& replica : r->as_array()) {
      const auto& o = replica.as_object();
      ++p.replicas;
      const auto* current = o.if_contains("current");
      if (current != nullptr && current->is_bool() && current->as_bool()) {
        p.current.emplace_back(o.at("name").as_string());
      }
    }
  }
  if (const auto* state = info.if_contains("state"); state != nullptr && state->is_object()) {
    if (const auto* m = state->as_object().if_contains("messages"); m != nullptr) {
      p.messages = m->to_number<std::uint64_t>();
    }
  }
  return p;
}

// Waits until `stream` has a leader and `replicas - 1` current followers holding `messages`.
std::optional<Placement> wait_replicated(const NatsCluster& cluster, const std::string& stream,
                                         std::size_t replicas, std::uint64_t messages) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  std::optional<Placement> last;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto info = js_info(cluster, "$JS.API.STREAM.INFO." + stream)) {
      last = placement(*info);
      if (last && !last->leader.empty() && last->current.size() + 1 == replicas &&
          last->replicas + 1 == replicas && last->messages == messages) {
        return last;
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  if (last) {
    MESSAGE(fmt::format("{}: leader '{}', {} of {} replicas current, {} messages", stream,
                        last->leader, last->current.size(), last->replicas, last->messages));
  }
  return std::nullopt;
}

// An agent's publisher as the outbox behaves: one connection given every node's URL, and each
// event re-sent with the same Nats-Msg-Id until the stream acknowledges it.
class AgentPublisher {
 public:
  AgentPublisher(const NatsCluster& cluster, AgentId agent) : agent_(agent) {
    const auto& first = *cluster.front();
    auto creds = first.mint_agent(agent_);
    auto conn = nats::Connection::connect({.url = NatsServerFixture::cluster_url(cluster),
                                           .creds_file = creds.string(),
                                           .inbox_prefix = "_INBOX." + agent_.str(),
                                           .tls_ca_file = first.tls_files().ca.string()});
    if (!conn) FAIL(conn.error().message);
    conn_ = std::move(*conn);
    auto js = nats::JetStream::create(*conn_, {});
    if (!js) FAIL(js.error().message);
    js_ = std::move(*js);
  }

  // Publishes events 0, 1, 2... until `stop`; false when one stayed unacknowledged past the
  // bound (the cluster lost its majority for too long).
  bool run(const std::atomic<bool>& stop) {
    const std::string subject = codec::agent_event_subject(agent_, schema::Payload::Heartbeat);
    while (!stop.load()) {
      const AgentSeq seq{sent_ + 1};
      const std::string id = codec::agent_msg_id(agent_, seq);
      const auto data = codec::build_heartbeat({.event_id = EventId::generate(real_clock()),
                                                .agent = agent_,
                                                .seq = seq,
                                                .occurred_at = real_clock().now()},
                                               {.agent_version = "0.1.0", .uptime_s = sent_});
      const auto give_up = std::chrono::steady_clock::now() + kWaitLimit;
      while (true) {
        auto ack = js_->publish(subject, data, id, 2s);
        if (ack) break;
        ++resends_;
        if (std::chrono::steady_clock::now() > give_up) {
          last_error_ = ack.error().message;
          return false;
        }
        std::this_thread::sleep_for(50ms);
      }
      std::lock_guard lock(mutex_);
      acked_.push_back(id);
      ++sent_;
    }
    return true;
  }

  std::size_t acked_count() const {
    std::lock_guard lock(mutex_);
    return acked_.size();
  }
  std::vector<std::string> acked() const {
    std::lock_guard lock(mutex_);
    return acked_;
  }
  std::uint64_t resends() const { return resends_.load(); }
  const AgentId& agent() const { return agent_; }
  const std::string& last_error() const { return last_error_; }

 private:
  AgentId agent_;
  std::unique_ptr<nats::Connection> conn_;
  std::unique_ptr<nats::JetStream> js_;
  mutable std::mutex mutex_;
  std::vector<std::string> acked_;
  std::uint64_t sent_ = 0;
  std::atomic<std::uint64_t> resends_{0};
  std::string last_error_;
};

// Runs `publishers` on their own threads until `stop` is set; join() reports their outcomes.
class Load {
 public:
  explicit Load(std::vector<std::unique_ptr<AgentPublisher>>& publishers) {
    for (auto& p : publishers) {
      threads_.emplace_back([this, publisher = p.get()] {
        if (!publisher->run(stop_)) failures_++;
      });
    }
  }
  ~Load() { join(); }
  int join() {
    stop_ = true;
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    return failures_.load();
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> failures_{0};
  std::vector<std::thread> threads_;
};

// Waits until every publisher has `more` acks beyond `from` (bounded).
bool wait_progress(const std::vector<std::unique_ptr<AgentPublisher>>& publishers,
                   const std::vector<std::size_t>& from, std::size_t more) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (std::size_t i = 0; i < publishers.size(); ++i) {
      all = all && publishers[i]->acked_count() >= from[i] + more;
    }
    if (all) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Polls `done` every 50 ms for kWaitLimit at most.
template <class F>
bool wait_until_bounded(F done) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

std::vector<std::size_t> acked_counts(
    const std::vector<std::unique_ptr<AgentPublisher>>& publishers) {
  std::vector<std::size_t> out;
  for (const auto& p : publishers) out.push_back(p->acked_count());
  return out;
}

}  // namespace

TEST_CASE("an R1 stream moves to R3 by applying the streams again with --replicas 3") {
  auto cluster = NatsServerFixture::start_cluster(3, {.tls = true});  // the files' R1
  std::vector<std::unique_ptr<AgentPublisher>> publishers;
  publishers.push_back(std::make_unique<AgentPublisher>(cluster, AgentId::generate(real_clock())));
  {
    Load load(publishers);
    REQUIRE(wait_progress(publishers, {0}, 200));
    REQUIRE(load.join() == 0);
  }
  const std::uint64_t held = publishers.front()->acked_count();
  auto r1 = wait_replicated(cluster, "RMM_EVENTS", 1, held);
  REQUIRE(r1.has_value());

  const auto& first = *cluster.front();
  auto nc = broker::connect_with_creds(NatsServerFixture::cluster_url(cluster),
                                       first.services_creds(), first.tls());
  REQUIRE(nc.has_value());
  broker::LimitSettings limits{.jetstream_dir = first.home() / "jetstream"};
  auto applied = broker::apply_streams(*nc, first.streams_dir(), 5s, limits, {.replicas = 3});
  if (!applied) FAIL(applied.error().message);
  for (const auto& o : *applied) CHECK(o.action == broker::StreamAction::kUpdated);
  // Applying 1 again would drop two copies: refused, nothing changes.
  auto lower = broker::apply_streams(*nc, first.streams_dir(), 5s, limits, {.replicas = 1});
  CHECK_FALSE(lower.has_value());
  natsConnection_Destroy(*nc);

  // The stored events were copied to the two new replicas.
  for (const char* stream : {"RMM_EVENTS", "RMM_COMMANDS", "RMM_CONTROL", "RMM_RELEASES"}) {
    CAPTURE(stream);
    CHECK(wait_replicated(cluster, stream, 3, std::string_view(stream) == "RMM_EVENTS" ? held : 0)
              .has_value());
  }
  // nats-server 2.9.10 moves the stream's consumers along (an agent's command consumer, made at
  // R1 by enrollment, has three replicas afterwards).
  auto consumer =
      js_info(cluster, fmt::format("$JS.API.CONSUMER.INFO.RMM_COMMANDS.{}",
                                   broker::agent_command_consumer(publishers.front()->agent())));
  REQUIRE(consumer.has_value());
  auto consumer_placement = placement(*consumer);
  REQUIRE(consumer_placement.has_value());
  CHECK(consumer_placement->replicas + 1 == 3);
}

TEST_CASE("kill -9 of the RMM_EVENTS leader under load: nothing acknowledged is lost or doubled") {
  auto cluster = NatsServerFixture::start_cluster(3, {.tls = true, .replicas = 3});
  const std::string urls = NatsServerFixture::cluster_url(cluster);
  auto& pg = test::PostgresFixture::shared();
  const auto pg_url = pg.create_database(pg.unique_name("cluster_kill"));
  auto db = pg::connect(pg_url);
  REQUIRE(db.has_value());
  test::TempDir dir("cluster-kill");
  // The projector, given every node's URL as `tools/rmm up --cluster 3` gives it (no clock
  // ticks: the stream then holds exactly the agents' events).
  test::Process projector;
  try {
    projector =
        test::start_projector(RMM_BIN_DIR, *cluster.front(), pg_url, **db, dir / "projector.log",
                              {"--nats-url=" + urls, "--ticker=false"});
  } catch (const std::runtime_error& e) {
    FAIL(std::string(e.what()) << "\n"
                               << files::read_all(dir / "projector.log").value_or("(no log)"));
  }
  auto checkpoint = [&] { return test::core_checkpoint(**db); };

  std::vector<std::unique_ptr<AgentPublisher>> publishers;
  for (int i = 0; i < 3; ++i) {
    publishers.push_back(
        std::make_unique<AgentPublisher>(cluster, AgentId::generate(real_clock())));
  }
  Load load(publishers);
  REQUIRE(wait_progress(publishers, acked_counts(publishers), 300));

  // The stream's leader: losing it costs an election (the harder case).
  std::string leader;
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (leader.empty() && std::chrono::steady_clock::now() < deadline) {
    if (auto info = js_info(cluster, "$JS.API.STREAM.INFO.RMM_EVENTS")) {
      if (auto p = placement(*info)) leader = p->leader;
    }
    if (leader.empty()) std::this_thread::sleep_for(100ms);
  }
  REQUIRE_FALSE(leader.empty());
  NatsServerFixture* victim = nullptr;
  for (auto& node : cluster) {
    if (node->server_name() == leader) victim = node.get();
  }
  REQUIRE(victim != nullptr);
  MESSAGE("killing the RMM_EVENTS leader " << leader);
  victim->kill9();
  const auto before_kill = acked_counts(publishers);
  const auto folded_at_kill = checkpoint();

  // Publishers and the projector carry on through the two other nodes.
  CHECK(wait_progress(publishers, before_kill, 300));
  CHECK(wait_until_bounded([&] { return checkpoint() > folded_at_kill + 300; }));
  victim->restart();
  CHECK(wait_progress(publishers, acked_counts(publishers), 300));
  REQUIRE(load.join() == 0);
  for (const auto& p : publishers) {
    CAPTURE(p->last_error());
    CHECK(p->last_error().empty());
  }

  // Every acknowledged event exactly once in the stream, and the restarted node a current
  // replica again.
  std::set<std::string> acked;
  std::uint64_t resends = 0;
  for (const auto& p : publishers) {
    for (const auto& id : p->acked()) CHECK(acked.insert(id).second);
    resends += p->resends();
  }
  MESSAGE(
      fmt::format("{} events acknowledged, {} re-sends during the outage", acked.size(), resends));
  auto settled = wait_replicated(cluster, "RMM_EVENTS", 3, acked.size());
  REQUIRE(settled.has_value());
  std::vector<std::string> members = settled->current;
  members.push_back(settled->leader);
  CHECK(std::find(members.begin(), members.end(), leader) != members.end());

  test::StreamReader reader(*cluster.front());
  std::map<std::string, int> stored;
  std::uint64_t last_seq = 0;
  for (const auto& m : reader.read("RMM_EVENTS")) {
    stored[m.msg_id]++;
    last_seq = std::max(last_seq, m.seq);
  }
  CHECK(stored.size() == acked.size());
  for (const auto& id : acked) {
    auto it = stored.find(id);
    CAPTURE(id);
    REQUIRE(it != stored.end());
    CHECK(it->second == 1);
  }

  // ... and in the read models once: each agent's row counts exactly the events it had acked.
  REQUIRE_MESSAGE(wait_until_bounded([&] { return checkpoint() == last_seq; }),
                  "projector checkpoint " << checkpoint() << " of " << last_seq);
  CHECK(projector.running());
  for (const auto& p : publishers) {
    pqxx::nontransaction tx(**db);
    auto row = tx.exec_params("SELECT events_applied, last_seq FROM agents WHERE id = $1",
                              p->agent().str());
    REQUIRE(row.size() == 1);
    CHECK(row[0][0].as<std::int64_t>() == static_cast<std::int64_t>(p->acked_count()));
    CHECK(row[0][1].as<std::int64_t>() == static_cast<std::int64_t>(p->acked_count()));
  }
  CHECK(projector.terminate(10s) == 0);
}

TEST_CASE("three replicas on a single server are refused before any stream changes") {
  NatsServerFixture single;  // the streams at R1
  auto nc = broker::connect_with_creds(single.url(), single.services_creds(), single.tls());
  REQUIRE(nc.has_value());
  auto applied =
      broker::apply_streams(*nc, single.streams_dir(), 5s,
                            {.jetstream_dir = single.home() / "jetstream"}, {.replicas = 3});
  natsConnection_Destroy(*nc);
  REQUIRE_FALSE(applied.has_value());
  CHECK(applied.error().message.find("replicas 3: the broker announces 1 server") !=
        std::string::npos);
  auto info = js_info_at(single.url(), single, "$JS.API.STREAM.INFO.RMM_EVENTS");
  REQUIRE(info.has_value());
  CHECK(info->at("config").as_object().at("num_replicas").to_number<int>() == 1);
}
