// Renders the nats-server configuration from broker-config/nats-server.conf.in (compiled in).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "admin/identity.h"
#include "common/result.h"

namespace rmm::broker {

// One node of a cluster of N nodes (all rendered from the same identity).
struct ClusterNodeOptions {
  std::string name = "gururmm";  // the cluster's name, the same on every node
  // Every node's route address "host:port", in the same order on every node (N entries).
  std::vector<std::string> nodes;
  int node = 0;  // this server's place in `nodes`, 1..N; its server_name is gururmm-<node>
  // Where this node's route listener binds ("host:port"); empty: its own entry of `nodes`.
  std::string listen;
};

struct ServerConfigOptions {
  // The client listen address. Anything but loopback needs tls_cert: plaintext never leaves the
  // machine.
  std::string host = "127.0.0.1";
  int port = 4222;
  int monitor_port = 0;  // 0: no HTTP monitor
  std::filesystem::path jetstream_dir;
  // A cluster node's account JWT directory (its `full` resolver); empty: default_resolver_dir.
  std::filesystem::path resolver_dir;
  // JetStream's file store limit in bytes; 0: the size of the filesystem holding jetstream_dir
  // (see broker-config/nats-server.conf.in for why not the server's default).
  std::int64_t max_file_store = 0;
  // PEM server certificate (chain) and key; both or neither. Set: TLS required for every client.
  std::filesystem::path tls_cert;
  std::filesystem::path tls_key;
  // The installation's CA (PEM): a cluster's route TLS verifies the other nodes against it.
  std::filesystem::path tls_ca;
  // Set (node > 0): a node of a cluster, with routes to the other nodes. Routes use TLS with
  // tls_cert, tls_key and tls_ca, required unless every node and the listener are on loopback.
  ClusterNodeOptions cluster;
  // The server's JetStream domain; empty: none (admin/leaf_config.h).
  std::string jetstream_domain;
  // Site leaf nodes connect to this port on `host` (with the client listener's TLS); 0: no
  // leafnode listener. A hub with leaf nodes also needs jetstream_domain = kHubDomain.
  int leafnode_port = 0;
  // "host:port" the leaves are told to reconnect to (the hub's public name and leafnode port).
  std::string leafnode_advertise;
};

// `accounts` beside the JetStream store (/var/lib/gururmm/nats/jetstream ->
// /var/lib/gururmm/nats/accounts): where a cluster node keeps its account JWTs.
std::filesystem::path default_resolver_dir(const std::filesystem::path& jetstream_dir);

// The size in bytes of the filesystem holding `path` (or its nearest existing parent).
Result<std::int64_t> filesystem_size(const std::filesystem::path& path);

// The config text: listen on <host>:<port> (TLS when a certificate is given), JetStream in
// `jetstream_dir`, the identity's operator, SYS as system account, and SYS and RMM preloaded in a
// MEMORY resolver; for a cluster node, the cluster block too, and a `full` resolver in
// resolver_dir instead (admin/revocations.h says why).
Result<std::string> render_server_config(const Identity& identity,
                                         const ServerConfigOptions& options);

}  // namespace rmm::broker
