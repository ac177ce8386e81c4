// Site leaf nodes (docs/operations.md, "Sites with poor links: leaf nodes"): a nats-server at a
// site, with a JetStream domain of its own, that the site's agents connect to. It keeps their
// events in RMM_SITE_EVENTS while the link to the hub is down; the hub's RMM_EVENTS sources that
// stream across the leafnode connection ($JS.<site>.API) and resumes from the last sequence it
// got when the link returns. Commands stay on the hub: agents pull them through the hub's
// domain ($JS.hub.API...), relayed by the leaf.
//
// The leaf trusts the same operator and accounts as the hub (the config carries the same JWTs),
// so an agent's credential, its permissions and the RMM account's partition mapping are the same
// on a leaf as on the hub: an agent still speaks only for itself.
//
// Limitations: the hub copies the site's stream as it is, so the leaf's box can write events in
// any agent's name: it is trusted like the hub for its site. Its credential (user `leaf-<site>`)
// carries only what the link needs (leaf_credentials), but `$JS.S.>` is nats-server's prefix for
// every source's deliveries, not this source's alone.
#pragma once

#include <boost/json/object.hpp>
#include <filesystem>
#include <string>
#include <string_view>

#include "admin/identity.h"
#include "admin/server_config.h"
#include "common/result.h"

namespace rmm::broker {

// The hub's JetStream domain when sites connect to it; agents of a site name it as their
// `nats-js-domain` to reach their command consumer on the hub.
inline constexpr std::string_view kHubDomain = "hub";
// The stream of a site's agent events on its leaf (broker-config/site-streams/).
inline constexpr std::string_view kSiteEventsStream = "RMM_SITE_EVENTS";

// A JetStream domain is one subject token: letters, digits, '-' and '_', at most 32.
Status check_domain(std::string_view domain);
// A site's domain: as check_domain, and not the hub's.
Status check_site(std::string_view site);

// The hub's `leafnodes { listen ... }` block (TLS with the client listener's certificate when
// `cert` is set; plaintext only on loopback, as render_server_config checks for `host`).
// `advertise` ("host:port", may be empty) is the address leaves are told to reconnect to.
Result<std::string> leafnode_listen_block(const std::string& host, int port,
                                          const std::string& advertise,
                                          const std::filesystem::path& cert,
                                          const std::filesystem::path& key);

struct LeafRemoteOptions {
  std::string site;  // the leaf's JetStream domain
  // The hub's leafnode listener, nats-leaf://host:port (or tls://); a cluster's nodes separated
  // by commas.
  std::string hub_url;
  std::filesystem::path credentials;  // the leaf's .creds (leaf_credentials)
  std::filesystem::path hub_ca;       // CA of the hub's certificate; empty: plaintext (loopback)
};

// The leaf's config: the hub's template for a single server (the agents' listener on
// `base.host:base.port`, its own JetStream store, the same operator and accounts) with
// server_name gururmm-<site>, JetStream domain <site>, and a remote to the hub bound to the RMM
// account. Agent events are kept off the leafnode connection both ways (deny_exports,
// deny_imports): the site's reach the hub only through the sourced stream, so never twice, and
// the hub's own agents' events are not copied into every site's stream.
Result<std::string> render_leaf_config(const Identity& identity, ServerConfigOptions base,
                                       const LeafRemoteOptions& remote);

// The `.creds` text of the user `leaf-<site>` of the RMM account: on the leafnode connection, its
// publish rights are what the leaf may send into the hub (the source's deliveries and replies,
// the agents' command pulls and acks, enrollment requests) and its subscribe rights what the hub
// may send it (requests to the site's domain, flow control, replies to the site's agents); at
// the leaf, a client with it may manage RMM_SITE_EVENTS only. No control events, no commands, no
// reading of the hub's streams.
std::string leaf_credentials(const Identity& identity, std::string_view site);

// The entry of RMM_EVENTS's `sources` that copies a site's RMM_SITE_EVENTS into it.
boost::json::object site_source(std::string_view site);
// Whether a `sources` entry is a site's (sources RMM_SITE_EVENTS through $JS.<site>.API).
bool is_site_source(const boost::json::value& source, std::string_view site);

}  // namespace rmm::broker
