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

}  // namespace

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
