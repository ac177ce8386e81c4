// The configs of a hub with site leaf nodes and of a leaf (admin/leaf_config.h), as text: the
// domains, the link's settings, and what render refuses. The servers themselves run in
// tests/broker/leaf_site_test.cc.
#include "admin/leaf_config.h"

#include <doctest/doctest.h>

#include "tests/fixtures/temp_dir.h"

using namespace rmm;
using namespace rmm::broker;

namespace {

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a hub's config with a leafnode listener, and a leaf's with its domain and link") {
  test::TempDir home("leafconf");
  auto id = init_identity(home.path());
  REQUIRE(id.has_value());
  ServerConfigOptions hub{.port = 4222,
                          .jetstream_dir = home / "js",
                          .max_file_store = 1 << 30,
                          .jetstream_domain = std::string(kHubDomain),
                          .leafnode_port = 7422,
                          .leafnode_advertise = "rmm.example.com:7422"};
  auto hub_text = render_server_config(*id, hub);
  REQUIRE(hub_text.has_value());
  CHECK(has(*hub_text, "  domain: hub\n"));
  CHECK(has(*hub_text, "listen: \"127.0.0.1:7422\""));
  CHECK(has(*hub_text, "advertise: \"rmm.example.com:7422\""));

  hub.jetstream_domain.clear();
  hub.leafnode_port = 0;
  auto single = render_server_config(*id, hub);
  REQUIRE(single.has_value());
  CHECK_FALSE(has(*single, "domain:"));
  CHECK_FALSE(has(*single, "leafnodes"));

  LeafRemoteOptions remote{.site = "branch-1",
                           .hub_url = "nats-leaf://127.0.0.1:7422,nats-leaf://localhost:7423",
                           .credentials = home / "leaf.creds"};
  auto leaf = render_leaf_config(
      *id, {.port = 4223, .jetstream_dir = home / "leafjs", .max_file_store = 1 << 30}, remote);
  REQUIRE_MESSAGE(leaf.has_value(), leaf.error().message);
  CHECK(has(*leaf, "server_name: gururmm-branch-1\n"));
  CHECK_FALSE(has(*leaf, "server_name: gururmm\n"));
  CHECK(has(*leaf, "  domain: branch-1\n"));
  CHECK(has(*leaf, "urls: [\"nats-leaf://127.0.0.1:7422\", \"nats-leaf://localhost:7423\"]"));
  CHECK(has(*leaf, "account: " + id->rmm_account.public_key()));
  CHECK(has(*leaf, "deny_exports: [\"rmm.evt.>\", \"rmm.p.*.evt.>\"]"));
  CHECK(has(*leaf, "deny_imports: [\"rmm.evt.>\", \"rmm.p.*.evt.>\"]"));
  CHECK(has(*leaf, id->rmm_account_jwt));  // the same accounts as the hub
  CHECK_FALSE(has(*leaf, "ca_file"));

  SUBCASE("refused: the hub's domain as a site, a bad domain, a link off loopback without a CA") {
    remote.site = "hub";
    CHECK_FALSE(render_leaf_config(*id, {.port = 4223, .jetstream_dir = home / "leafjs"}, remote));
    remote.site = "a.b";
    CHECK_FALSE(render_leaf_config(*id, {.port = 4223, .jetstream_dir = home / "leafjs"}, remote));
    remote.site = "branch";
    remote.hub_url = "nats-leaf://rmm.example.com:7422";
    auto off = render_leaf_config(*id, {.port = 4223, .jetstream_dir = home / "leafjs"}, remote);
    REQUIRE_FALSE(off.has_value());
    CHECK(has(off.error().message, "--hub-ca"));
    remote.hub_url = "nats://127.0.0.1:7422";  // the client port's scheme
    CHECK_FALSE(render_leaf_config(*id, {.port = 4223, .jetstream_dir = home / "leafjs"}, remote));
  }
  SUBCASE("with the hub's CA the link is TLS") {
    remote.hub_url = "nats-leaf://rmm.example.com:7422";
    remote.hub_ca = home / "ca.pem";
    auto tls = render_leaf_config(
        *id, {.port = 4223, .jetstream_dir = home / "leafjs", .max_file_store = 1 << 30}, remote);
    REQUIRE(tls.has_value());
    CHECK(has(*tls, "ca_file: \"" + (home / "ca.pem").string() + "\""));
  }
}

TEST_CASE("a site's source on RMM_EVENTS goes through the site's domain") {
  auto source = site_source("branch-1");
  CHECK(source.at("name") == "RMM_SITE_EVENTS");
  CHECK(source.at("external").at("api") == "$JS.branch-1.API");
  CHECK(source.at("external").at("deliver") == "");
  CHECK(is_site_source(source, "branch-1"));
  CHECK_FALSE(is_site_source(source, "branch-2"));
}
