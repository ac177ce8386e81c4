// rmm-admin's cluster pieces without a server: the rendered cluster block, the route TLS rule,
// the replica count checks, and the URL lists every program's nats-url accepts.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "admin/identity.h"
#include "admin/server_config.h"
#include "admin/stream_replicas.h"
#include "common/nats_urls.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

using namespace rmm;
using namespace rmm::broker;

namespace {

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

ClusterNodeOptions three_nodes(std::string_view host, int node) {
  ClusterNodeOptions c;
  for (int port : {6301, 6302, 6303}) c.nodes.push_back(fmt::format("{}:{}", host, port));
  c.node = node;
  return c;
}

}  // namespace

TEST_CASE("a single server keeps its name and has no cluster block") {
  test::TempDir home("cluster-config");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  auto text = render_server_config(*id, {.port = 4333, .jetstream_dir = home / "js"});
  REQUIRE(text.has_value());
  CHECK(has(*text, "server_name: gururmm\n"));
  CHECK_FALSE(has(*text, "cluster {"));
  CHECK_FALSE(has(*text, "routes: ["));
  CHECK(has(*text, "\nresolver: MEMORY\n"));  // a revocation rewrites the preload and reloads
  CHECK_FALSE(has(*text, "type: full"));
}

TEST_CASE("a loopback cluster node: its name, its listener, routes to the other nodes") {
  test::TempDir home("cluster-config");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  auto text = render_server_config(
      *id, {.port = 4302, .jetstream_dir = home / "js2", .cluster = three_nodes("127.0.0.1", 2)});
  REQUIRE(text.has_value());
  CHECK(has(*text, "server_name: gururmm-2\n"));
  CHECK(has(*text, "cluster {\n  name: gururmm\n  listen: 127.0.0.1:6302\n"));
  CHECK(has(*text, "    nats-route://127.0.0.1:6301\n    nats-route://127.0.0.1:6303\n  ]\n"));
  CHECK_FALSE(has(*text, "nats-route://127.0.0.1:6302"));
  CHECK_FALSE(has(*text, "verify: true"));  // plaintext routes: every node is on loopback
  CHECK(has(*text, (home / "js2").string()));
  // nats-server's own resolver, so that a pushed account JWT reaches every node and is kept.
  CHECK(has(*text, fmt::format("resolver {{\n  type: full\n  dir: \"{}\"\n",
                               (home.path() / "accounts").string())));
  CHECK_FALSE(has(*text, "resolver: MEMORY"));
  CHECK(has(*text, id->rmm_account.public_key() + ": \"" + id->rmm_account_jwt));
  CHECK_FALSE(has(*text, "@@"));
  CHECK(default_resolver_dir("/var/lib/gururmm/nats/jetstream/") ==
        "/var/lib/gururmm/nats/accounts");

  auto bad = three_nodes("127.0.0.1", 4);
  CHECK_FALSE(
      render_server_config(*id, {.port = 4302, .jetstream_dir = home / "js", .cluster = bad})
          .has_value());
  bad = three_nodes("127.0.0.1", 1);
  bad.nodes[1] = "127.0.0.1";  // no port
  CHECK_FALSE(
      render_server_config(*id, {.port = 4302, .jetstream_dir = home / "js", .cluster = bad})
          .has_value());
}

TEST_CASE("routes off loopback need TLS with the CA; with it both ends verify") {
  test::TempDir home("cluster-config");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  auto tls = test::make_tls_files(home / "tls", {"10.0.0.1", "127.0.0.1"});
  ServerConfigOptions o{.host = "10.0.0.1",
                        .port = 4222,
                        .jetstream_dir = home / "js",
                        .tls_cert = tls.cert,
                        .tls_key = tls.key,
                        .cluster = three_nodes("10.0.0.1", 1)};
  auto refused = render_server_config(*id, o);  // no CA: the other nodes could not be verified
  REQUIRE_FALSE(refused.has_value());
  CHECK(has(refused.error().message, "--tls-ca"));
  o.tls_ca = tls.ca;
  auto text = render_server_config(*id, o);
  REQUIRE(text.has_value());
  CHECK(has(*text, "server_name: gururmm-1\n"));
  CHECK(has(*text, "listen: 10.0.0.1:6301\n"));
  CHECK(has(*text, "nats-route://10.0.0.1:6302\n"));
  CHECK(has(*text, "ca_file: \"" + tls.ca.string() + "\"\n"));
  CHECK(has(*text, "verify: true\n"));
  CHECK_FALSE(has(*text, "@@"));

  // A loopback node list with a listener bound to every address leaves the machine too.
  ServerConfigOptions wide{
      .port = 4222, .jetstream_dir = home / "js", .cluster = three_nodes("127.0.0.1", 1)};
  wide.cluster.listen = "0.0.0.0:6301";
  CHECK_FALSE(render_server_config(*id, wide).has_value());
}

TEST_CASE("replica counts: odd, at most 5, within the cluster, never silently fewer") {
  CHECK(check_replica_count(1).has_value());
  CHECK(check_replica_count(3).has_value());
  CHECK(check_replica_count(5).has_value());
  CHECK_FALSE(check_replica_count(0).has_value());
  CHECK_FALSE(check_replica_count(2).has_value());
  CHECK_FALSE(check_replica_count(4).has_value());
  CHECK_FALSE(check_replica_count(7).has_value());
  CHECK(check_fits_cluster(3, 3).has_value());
  CHECK_FALSE(check_fits_cluster(3, 1).has_value());

  auto desired = boost::json::parse(R"({"name":"S","num_replicas":1})").as_object();
  REQUIRE(set_replicas(desired, nullptr, {.replicas = 3}).has_value());
  CHECK(desired.at("num_replicas").to_number<int>() == 3);
  auto r3 = boost::json::parse(R"({"name":"S","num_replicas":3})").as_object();
  auto lower = boost::json::parse(R"({"name":"S","num_replicas":1})").as_object();
  auto refused = set_replicas(lower, &r3, {.replicas = 1});
  REQUIRE_FALSE(refused.has_value());
  CHECK(has(refused.error().message, "S has 3 replicas"));
  CHECK(set_replicas(lower, &r3, {.replicas = 1, .force = true}).has_value());
  auto kept = boost::json::parse(R"({"name":"S","num_replicas":1})").as_object();
  REQUIRE(set_replicas(kept, &r3, {.replicas = 0}).has_value());  // 0: the file's count
  CHECK(kept.at("num_replicas").to_number<int>() == 1);
}

TEST_CASE("a NATS URL list splits on commas, trimmed") {
  auto urls = nats::split_urls("nats://127.0.0.1:4222, nats://127.0.0.1:4223 ,tls://h:1");
  REQUIRE(urls.has_value());
  CHECK(*urls ==
        std::vector<std::string>{"nats://127.0.0.1:4222", "nats://127.0.0.1:4223", "tls://h:1"});
  CHECK_FALSE(nats::split_urls("nats://a:1,,nats://b:2").has_value());
  CHECK_FALSE(nats::split_urls("").has_value());
}
