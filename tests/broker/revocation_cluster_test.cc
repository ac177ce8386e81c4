// Key revocation on a three-node NATS cluster (issue #17 §1): real nats-servers on loopback,
// configured by render_server_config as production is (the nodes run nats-server's `full`
// resolver). An agent's key is revoked through the enrollment responder's revoker
// (api::enroll::home_key_revoker: node 1's home, config and pid file, as rmm-api on machine 1 has
// them); the agent's connection to node 3 must close within a bound, the key must be refused by
// every node, also after a node restarts, and an agent that was not revoked keeps publishing. A
// node that was down during the revocation learns it from `rmm-admin push-account`'s path. A
// site's leaf node learns it only when its config is rendered again and reloaded, as
// docs/operations.md tells the operator.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "admin/files.h"
#include "admin/revocations.h"
#include "admin/streams.h"
#include "api/enroll/key_revoker.h"
#include "common/clock.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tests/fixtures/leaf_node.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace std::chrono_literals;
using test::NatsCluster;
using test::NatsServerFixture;

namespace {

constexpr auto kBound = 5s;  // a revocation reaches every node and closes the connection by then

// An agent as rmm-agent connects: its credential, its private inbox, reconnecting for ever to
// any node it learns of. `url` is where it connects first.
struct Agent {
  AgentId id = AgentId::generate(real_clock());
  std::filesystem::path creds;
  std::string public_key;
  std::unique_ptr<nats::Connection> conn;
  std::unique_ptr<nats::JetStream> js;
  std::uint64_t seq = 0;
};

Agent enroll_agent(const NatsServerFixture& node) {
  Agent a;
  a.creds = node.mint_agent(a.id);
  auto text = files::read_all(a.creds);
  REQUIRE(text.has_value());
  auto key = broker::key_from_creds(*text);
  REQUIRE_MESSAGE(key.has_value(), (key ? "" : key.error().message));
  a.public_key = key->public_key();
  return a;
}

Result<std::unique_ptr<nats::Connection>> connect_as(const Agent& a, const std::string& url,
                                                     const NatsServerFixture& node) {
  return nats::Connection::connect({.url = url,
                                    .creds_file = a.creds.string(),
                                    .inbox_prefix = "_INBOX." + a.id.str(),
                                    .tls_ca_file = node.tls_files().ca.string()});
}

void connect(Agent& a, const NatsServerFixture& node) {
  auto conn = connect_as(a, node.url(), node);
  REQUIRE_MESSAGE(conn.has_value(), (conn ? "" : conn.error().message));
  a.conn = std::move(*conn);
  auto js = nats::JetStream::create(*a.conn, {});
  REQUIRE(js.has_value());
  a.js = std::move(*js);
}

// One heartbeat into RMM_EVENTS, acknowledged by the stream.
Status publish_event(Agent& a) {
  const AgentSeq seq{++a.seq};
  const auto data = codec::build_heartbeat({.event_id = EventId::generate(real_clock()),
                                            .agent = a.id,
                                            .seq = seq,
                                            .occurred_at = real_clock().now()},
                                           {.agent_version = "0.1.0", .uptime_s = a.seq});
  auto ack = a.js->publish(codec::agent_event_subject(a.id, schema::Payload::Heartbeat), data,
                           codec::agent_msg_id(a.id, seq), 3s);
  if (!ack) return std::unexpected(ack.error());
  return {};
}

// Whether a fresh connection with `a`'s credential to `node` alone is accepted.
bool accepted_by(const Agent& a, const NatsServerFixture& node) {
  auto conn = connect_as(a, node.url(), node);
  return conn.has_value();
}
// The same at a leaf node (plaintext on loopback, as the fixture's leaf listener is).
bool accepted_by(const Agent& a, const test::LeafNodeFixture& leaf) {
  return nats::Connection::connect({.url = leaf.url(),
                                    .creds_file = a.creds.string(),
                                    .inbox_prefix = "_INBOX." + a.id.str()})
      .has_value();
}

template <class F>
bool eventually(F&& condition, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

// The revoker rmm-api's enrollment responder uses, on node 1's home (its config, and its pid in
// <home>/run/nats.pid as tools/rmm writes it), pushing to the broker URLs it is given.
Status revoke_on_machine_1(const NatsServerFixture& n1, const std::string& nats_url,
                           const std::vector<std::string>& keys) {
  const auto run = n1.home() / "run";
  std::filesystem::create_directories(run);
  if (auto s = files::write_atomic(run / "nats.pid", std::to_string(n1.pid()) + "\n", 0600); !s) {
    return s;
  }
  auto revoker = api::enroll::home_key_revoker(
      {.home = n1.home(), .nats_url = nats_url, .nats_tls = n1.tls()}, real_clock());
  return revoker(keys);
}

}  // namespace

TEST_CASE("a key revoked on node 1 is refused by every node of the cluster, also after a restart") {
  auto cluster = NatsServerFixture::start_cluster(3);
  auto& n1 = *cluster[0];
  auto& n2 = *cluster[1];
  auto& n3 = *cluster[2];

  Agent revoked = enroll_agent(n1);
  Agent kept = enroll_agent(n1);
  connect(revoked, n3);
  connect(kept, n3);
  REQUIRE(publish_event(revoked).has_value());
  REQUIRE(publish_event(kept).has_value());

  // rmm-api on machine 1 knows only its own node here: the update crosses the routes.
  const auto started = std::chrono::steady_clock::now();
  auto st = revoke_on_machine_1(n1, n1.url(), {revoked.public_key});
  REQUIRE_MESSAGE(st.has_value(), (st ? "" : st.error().message));

  CHECK_MESSAGE(eventually([&] { return !revoked.conn->connected(); }, kBound),
                "the revoked agent's connection to node 3 is still up");
  MESSAGE(fmt::format("revoked agent's connection to node 3 dropped after {} ms",
                      std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count()));
  CHECK_FALSE(publish_event(revoked).has_value());
  for (const auto& node : cluster) {
    CHECK_MESSAGE(!accepted_by(revoked, *node),
                  fmt::format("{} took the revoked key", node->server_name()));
    CHECK_MESSAGE(accepted_by(kept, *node),
                  fmt::format("{} refused a key not revoked", node->server_name()));
  }
  CHECK(kept.conn->connected());
  CHECK(publish_event(kept).has_value());
  {
    auto nc = broker::connect_with_creds(n2.url(), n2.services_creds(), n2.tls());
    REQUIRE(nc.has_value());
    CHECK(broker::js_api_request(*nc, "$JS.API.STREAM.INFO.RMM_EVENTS", "", 3s).has_value());
    natsConnection_Destroy(*nc);
  }

  SUBCASE("a restarted node still refuses the key") {
    // Node 3's config still preloads the JWT rendered before the revocation; its resolver keeps
    // the newer one it stored.
    n3.restart();
    CHECK_FALSE(accepted_by(revoked, n3));
    CHECK(accepted_by(kept, n3));
    n1.restart();
    CHECK_FALSE(accepted_by(revoked, n1));
    CHECK(accepted_by(kept, n1));
  }

  SUBCASE("a node down during a revocation learns it from the next push") {
    Agent later = enroll_agent(n1);
    REQUIRE(accepted_by(later, n2));
    n2.stop();
    auto again =
        revoke_on_machine_1(n1, NatsServerFixture::cluster_url(cluster), {later.public_key});
    REQUIRE_MESSAGE(again.has_value(), (again ? "" : again.error().message));
    n2.restart();
    const bool refused_at_once = !accepted_by(later, n2);
    MESSAGE(fmt::format("node 2, down during the revocation, refuses the key after its restart: {}",
                        refused_at_once));
    // What `rmm-admin push-account` does: the same JWT again, to every node.
    auto report = broker::revoke_user_keys({.home = n1.home(),
                                            .at_unix_seconds = real_clock().now() / 1'000'000'000,
                                            .nats_url = NatsServerFixture::cluster_url(cluster),
                                            .nats_tls = n1.tls()});
    REQUIRE_MESSAGE(report.has_value(), (report ? "" : report.error().message));
    CHECK(report->servers.size() == 3);
    CHECK(eventually([&] { return !accepted_by(later, n2); }, kBound));
    CHECK_FALSE(accepted_by(revoked, n2));
    CHECK(accepted_by(kept, n2));
  }
}

TEST_CASE("a stale home's push keeps the cluster's revocations") {
  // Machine 2 has a copy of the home from before a revocation made on machine 1; whatever it
  // pushes later carries the cluster's revocations too.
  auto cluster = NatsServerFixture::start_cluster(3, {.apply_streams = false});
  auto& n1 = *cluster[0];
  auto& n2 = *cluster[1];
  test::TempDir stale{"stale-home"};
  const auto stale_home = stale.path();
  std::filesystem::copy(n1.home() / "nats", stale_home / "nats",
                        std::filesystem::copy_options::recursive);

  Agent first = enroll_agent(n1);
  Agent second = enroll_agent(n1);
  auto st = revoke_on_machine_1(n1, n1.url(), {first.public_key});
  REQUIRE_MESSAGE(st.has_value(), (st ? "" : st.error().message));
  REQUIRE(eventually([&] { return !accepted_by(first, n2); }, kBound));

  auto report = broker::revoke_user_keys({.home = stale_home,
                                          .user_public_keys = {second.public_key},
                                          .at_unix_seconds = real_clock().now() / 1'000'000'000,
                                          .nats_url = n2.url(),
                                          .nats_tls = n2.tls()});
  REQUIRE_MESSAGE(report.has_value(), (report ? "" : report.error().message));
  for (const auto& node : cluster) {
    CHECK_MESSAGE(eventually([&] { return !accepted_by(second, *node); }, kBound),
                  fmt::format("{} took the key revoked from machine 2", node->server_name()));
    CHECK_MESSAGE(!accepted_by(first, *node),
                  fmt::format("{} took back the key revoked from machine 1", node->server_name()));
  }
  auto merged = broker::load_revocations(stale_home / "nats");
  REQUIRE(merged.has_value());
  CHECK(merged->contains(first.public_key));
  CHECK(merged->contains(second.public_key));

  // No broker to push to: an error, and the key is recorded for the next push all the same.
  Agent third = enroll_agent(n1);
  auto unreachable = broker::revoke_user_keys({.home = stale_home,
                                               .user_public_keys = {third.public_key},
                                               .at_unix_seconds = 0,
                                               .nats_url = "nats://127.0.0.1:1"});
  CHECK_FALSE(unreachable.has_value());
  merged = broker::load_revocations(stale_home / "nats");
  REQUIRE(merged.has_value());
  CHECK(merged->contains(third.public_key));
  CHECK(accepted_by(third, n2));
  auto pushed = broker::revoke_user_keys({.home = stale_home,
                                          .at_unix_seconds = 0,
                                          .nats_url = NatsServerFixture::cluster_url(cluster)});
  REQUIRE_MESSAGE(pushed.has_value(), (pushed ? "" : pushed.error().message));
  CHECK(pushed->servers.size() == 3);
  for (const auto& node : cluster) {
    CHECK_MESSAGE(
        eventually([&] { return !accepted_by(third, *node); }, kBound),
        fmt::format("{} took the key revoked while the broker was away", node->server_name()));
  }
}

TEST_CASE("a site's leaf node refuses a revoked key once its config is rendered again") {
  NatsServerFixture hub({.leafnodes = true});
  test::LeafNodeFixture leaf(hub, "site9", hub.leafnode_port());
  REQUIRE(leaf.wait_linked(20s));
  Agent revoked = enroll_agent(hub);
  Agent kept = enroll_agent(hub);
  auto conn = nats::Connection::connect({.url = leaf.url(),
                                         .creds_file = revoked.creds.string(),
                                         .inbox_prefix = "_INBOX." + revoked.id.str()});
  REQUIRE_MESSAGE(conn.has_value(), (conn ? "" : conn.error().message));
  revoked.conn = std::move(*conn);

  auto st = revoke_on_machine_1(hub, hub.url(), {revoked.public_key});
  REQUIRE_MESSAGE(st.has_value(), (st ? "" : st.error().message));
  CHECK(eventually([&] { return !accepted_by(revoked, hub); }, kBound));
  // The push travels in the hub's system account, which the leaf has no link in.
  std::this_thread::sleep_for(1s);
  CHECK(revoked.conn->connected());
  CHECK(accepted_by(revoked, leaf));

  leaf.render_again_and_reload();
  CHECK_MESSAGE(eventually([&] { return !revoked.conn->connected(); }, kBound),
                "the revoked agent's connection to the leaf is still up after the reload");
  CHECK_FALSE(accepted_by(revoked, leaf));
  CHECK(accepted_by(kept, leaf));
  CHECK(leaf.wait_linked(20s));  // the reload leaves the link to the hub up
}
