#include "admin/server_config.h"

#include <fmt/format.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include "admin/leaf_config.h"
#include "common/nats_tls.h"
#include "nats_server_conf_template.h"

namespace rmm::broker {
namespace {

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

std::string drop_lines_containing(std::string_view text, std::string_view marker) {
  std::string out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    auto line = text.substr(start, end - start);
    if (line.find(marker) == std::string_view::npos) out += line;
    start = end;
  }
  return out;
}

// Path values go inside double quotes in the config.
bool quotable(const std::string& value) {
  return !value.empty() && value.find_first_of("\"\\\n") == std::string::npos;
}

// An IP address or DNS name: nothing the config syntax would read differently.
bool valid_host(std::string_view host) {
  return !host.empty() && host.size() <= 253 &&
         host.find_first_not_of(
             "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:-") ==
             std::string_view::npos;
}

Status check_tls_file(const std::filesystem::path& path, std::string_view setting) {
  std::error_code ec;
  if (!quotable(path.string())) {
    return failf("{} '{}' is empty or holds a quote, backslash or newline", setting, path.string());
  }
  if (!std::filesystem::is_regular_file(path, ec)) {
    return failf("{} {}: no such file", setting, path.string());
  }
  return {};
}

// "host:port" split at its last colon; an IPv6 host is in brackets ("[::1]:6222").
struct HostPort {
  std::string host;
  int port = 0;
};

Result<HostPort> parse_host_port(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return failf("cluster address '{}' is not host:port", text);
  }
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9' || port > 65535) return failf("cluster address '{}': bad port", text);
    port = port * 10 + (c - '0');
  }
  if (port <= 0 || port > 65535 || !valid_host(host)) {
    return failf("cluster address '{}' is not host:port", text);
  }
  return HostPort{std::move(host), port};
}

std::string bracketed(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// The cluster block's values, checked: the listen address, the route URLs of the other nodes,
// and whether the routes may stay plaintext (every address on loopback).
struct ClusterValues {
  std::string listen;
  std::string routes;  // one "    nats-route://host:port" line per other node
  bool loopback_only = true;
};

Result<ClusterValues> cluster_values(const ClusterNodeOptions& c) {
  const int n = static_cast<int>(c.nodes.size());
  if (n < 2) return failf("a cluster needs at least 2 nodes, got {}", n);
  if (c.node < 1 || c.node > n)
    return failf("node {} is not one of the {} cluster nodes", c.node, n);
  if (c.name.empty() ||
      c.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789-_") != std::string::npos) {
    return failf("cluster name '{}': letters, digits, - and _ only", c.name);
  }
  ClusterValues v;
  for (int i = 1; i <= n; ++i) {
    auto hp = parse_host_port(c.nodes[static_cast<std::size_t>(i - 1)]);
    if (!hp) return std::unexpected(hp.error());
    v.loopback_only = v.loopback_only && nats::is_loopback_host(hp->host);
    if (i == c.node) {
      v.listen = fmt::format("{}:{}", bracketed(hp->host), hp->port);
      continue;
    }
    if (!v.routes.empty()) v.routes += '\n';
    v.routes += fmt::format("    nats-route://{}:{}", bracketed(hp->host), hp->port);
  }
  if (!c.listen.empty()) {
    auto hp = parse_host_port(c.listen);
    if (!hp) return std::unexpected(hp.error());
    v.loopback_only = v.loopback_only && nats::is_loopback_host(hp->host);
    v.listen = fmt::format("{}:{}", bracketed(hp->host), hp->port);
  }
  return v;
}

}  // namespace

std::filesystem::path default_resolver_dir(const std::filesystem::path& jetstream_dir) {
  auto dir = jetstream_dir.lexically_normal();
  if (!dir.has_filename()) dir = dir.parent_path();  // a trailing slash
  return dir.parent_path() / "accounts";
}

Result<std::int64_t> filesystem_size(const std::filesystem::path& path) {
  std::filesystem::path p = path;
  std::error_code ec;
  while (!p.empty() && !std::filesystem::exists(p, ec) && p != p.parent_path()) p = p.parent_path();
  struct statvfs fs {};
  if (p.empty() || ::statvfs(p.c_str(), &fs) != 0) {
    return failf("size of the filesystem holding {}: {}", path.string(), std::strerror(errno));
  }
  return static_cast<std::int64_t>(fs.f_blocks) * static_cast<std::int64_t>(fs.f_frsize);
}

Result<std::string> render_server_config(const Identity& identity,
                                         const ServerConfigOptions& options) {
  if (options.port <= 0 || options.port > 65535) return failf("invalid port {}", options.port);
  if (options.monitor_port < 0 || options.monitor_port > 65535) {
    return failf("invalid monitor port {}", options.monitor_port);
  }
  std::string dir = options.jetstream_dir.string();
  if (!quotable(dir)) {
    return failf("jetstream dir '{}' is empty or holds a quote, backslash or newline", dir);
  }
  if (!valid_host(options.host)) return failf("invalid nats-host '{}'", options.host);
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    return fail("tls-cert and tls-key go together: give both or neither");
  }
  if (!tls && !nats::is_loopback_host(options.host)) {
    return failf(
        "refusing to listen on {} without TLS: plaintext stays on loopback; give --tls-cert and "
        "--tls-key",
        options.host);
  }
  std::filesystem::path cert;
  std::filesystem::path key;
  if (tls) {
    if (auto s = check_tls_file(options.tls_cert, "tls-cert"); !s)
      return std::unexpected(s.error());
    if (auto s = check_tls_file(options.tls_key, "tls-key"); !s) return std::unexpected(s.error());
    // nats-server resolves relative paths against its own working directory, not ours.
    cert = std::filesystem::absolute(options.tls_cert);
    key = std::filesystem::absolute(options.tls_key);
  }
  const bool clustered = options.cluster.node > 0;
  ClusterValues cluster;
  if (clustered) {
    auto values = cluster_values(options.cluster);
    if (!values) return std::unexpected(values.error());
    cluster = std::move(*values);
  }
  // Routes carry every event between machines: TLS with the installation's CA unless all of
  // them stay on this machine's loopback.
  const bool route_tls = clustered && (tls || !options.tls_ca.empty() || !cluster.loopback_only);
  std::filesystem::path ca;
  if (route_tls) {
    if (!tls || options.tls_ca.empty()) {
      return fail(
          "cluster routes that leave loopback need TLS: give --tls-cert, --tls-key and --tls-ca "
          "(the CA that issued every node's certificate)");
    }
    if (auto s = check_tls_file(options.tls_ca, "tls-ca"); !s) return std::unexpected(s.error());
    ca = std::filesystem::absolute(options.tls_ca);
  }
  std::string text;
  if (options.monitor_port == 0) {
    text = drop_lines_containing(kNatsServerConfTemplate, "@@MONITOR@@");
  } else {
    text = std::string(kNatsServerConfTemplate);
    replace_all(text, " # @@MONITOR@@", "");
    replace_all(text, "@@MONITOR_PORT@@", std::to_string(options.monitor_port));
  }
  if (tls) {
    replace_all(text, " # @@TLS@@", "");
    replace_all(text, "@@TLS_CERT@@", cert.string());
    replace_all(text, "@@TLS_KEY@@", key.string());
  } else {
    text = drop_lines_containing(text, "@@TLS@@");
  }
  if (clustered) {
    auto resolver_dir = options.resolver_dir.empty() ? default_resolver_dir(options.jetstream_dir)
                                                     : options.resolver_dir;
    if (!quotable(resolver_dir.string())) {
      return failf("resolver dir '{}' is empty or holds a quote, backslash or newline",
                   resolver_dir.string());
    }
    text = drop_lines_containing(text, "@@MEMORY_RESOLVER@@");
    replace_all(text, " # @@FULL_RESOLVER@@", "");
    replace_all(text, "@@RESOLVER_DIR@@", resolver_dir.string());
    replace_all(text, " # @@CLUSTER@@", "");
    replace_all(text, "@@SERVER_NAME@@", fmt::format("gururmm-{}", options.cluster.node));
    replace_all(text, "@@CLUSTER_NAME@@", options.cluster.name);
    replace_all(text, "@@CLUSTER_LISTEN@@", cluster.listen);
    replace_all(text, "@@ROUTES@@", cluster.routes);
  } else {
    text = drop_lines_containing(text, "@@FULL_RESOLVER@@");
    replace_all(text, " # @@MEMORY_RESOLVER@@", "");
    text = drop_lines_containing(text, "@@CLUSTER@@");
    replace_all(text, "@@SERVER_NAME@@", "gururmm");
  }
  if (route_tls) {
    replace_all(text, " # @@ROUTE_TLS@@", "");
    replace_all(text, "@@TLS_CA@@", ca.string());
  } else {
    text = drop_lines_containing(text, "@@ROUTE_TLS@@");
  }
  // An IPv6 address goes in brackets, or its colons would read as the port's.
  const bool v6 = options.host.find(':') != std::string::npos;
  replace_all(text, "@@LISTEN_HOST@@", v6 ? "[" + options.host + "]" : options.host);
  replace_all(text, "@@PORT@@", std::to_string(options.port));
  replace_all(text, "@@JETSTREAM_DIR@@", dir);
  if (options.jetstream_domain.empty()) {
    text = drop_lines_containing(text, "@@DOMAIN@@");
  } else {
    if (auto s = check_domain(options.jetstream_domain); !s) return std::unexpected(s.error());
    replace_all(text, " # @@DOMAIN@@", "");
    replace_all(text, "@@JS_DOMAIN@@", options.jetstream_domain);
  }
  std::int64_t max_file_store = options.max_file_store;
  if (max_file_store <= 0) {
    auto size = filesystem_size(options.jetstream_dir);
    if (!size) return std::unexpected(size.error());
    max_file_store = *size;
  }
  replace_all(text, "@@MAX_FILE_STORE@@", std::to_string(max_file_store));
  replace_all(text, "@@OPERATOR_JWT@@", identity.operator_jwt);
  replace_all(text, "@@SYSTEM_ACCOUNT_JWT@@", identity.sys_account_jwt);
  replace_all(text, "@@RMM_ACCOUNT_JWT@@", identity.rmm_account_jwt);
  replace_all(text, "@@SYSTEM_ACCOUNT@@", identity.sys_account.public_key());
  replace_all(text, "@@RMM_ACCOUNT@@", identity.rmm_account.public_key());
  if (text.find("@@") != std::string::npos) return fail("template has an unknown @@ placeholder");
  if (options.leafnode_port != 0) {
    auto block = leafnode_listen_block(options.host, options.leafnode_port,
                                       options.leafnode_advertise, cert, key);
    if (!block) return std::unexpected(block.error());
    text += *block;
  }
  return text;
}

}  // namespace rmm::broker
