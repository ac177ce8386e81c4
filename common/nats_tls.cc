#include "common/nats_tls.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "common/nats_message.h"
#include "common/nats_urls.h"
#include "common/platform/system.h"

namespace rmm::nats {
namespace {

Result<std::string> host_of(std::string_view url) {
  std::string_view rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    rest.remove_prefix(scheme + 3);
  }
  rest = rest.substr(0, rest.find('/'));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  std::string_view host;
  if (rest.starts_with('[')) {
    auto close = rest.find(']');
    if (close == std::string_view::npos) return failf("NATS URL '{}': unclosed '['", url);
    host = rest.substr(1, close - 1);
  } else {
    host = rest.substr(0, rest.find(':'));
  }
  if (host.empty()) return failf("NATS URL '{}' has no host", url);
  return std::string(host);
}

// Sets an environment variable for the lifetime of the object, then puts the old value back;
// an unset one comes back as `unset_value`, which must mean the same to its readers. Adding or
// removing a variable reallocates the environment under any thread reading it (getenv takes no
// lock), while replacing one only swaps a pointer: so a process adds each variable once, at its
// first TLS connection (made at start-up), and later connections (the projector rebuilds its
// connection while running) only replace values.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value, const char* unset_value)
      : name_(name), old_(unset_value) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    platform::set_env(name, value);
  }
  ~ScopedEnv() { platform::set_env(name_, old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::string old_;
};

std::mutex& env_mutex() {
  static std::mutex m;
  return m;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

}  // namespace

Result<std::vector<std::string>> url_hosts(std::string_view urls) {
  auto list = split_urls(urls);
  if (!list) return std::unexpected(list.error());
  std::vector<std::string> hosts;
  for (const auto& one : *list) {
    auto host = host_of(one);
    if (!host) return std::unexpected(host.error());
    hosts.push_back(std::move(*host));
  }
  return hosts;
}

bool is_loopback_host(std::string_view host) {
  std::string h(host);
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  if (h == "localhost" || h == "localhost.") return true;
  return platform::ip_is_loopback(h).value_or(false);
}

Status configure_tls(natsOptions* opts, std::string_view urls, const TlsClientOptions& tls) {
  auto hosts = url_hosts(urls);
  if (!hosts) return std::unexpected(hosts.error());
  if (tls.ca_file.empty()) {
    for (const auto& host : *hosts) {
      if (!is_loopback_host(host)) {
        return failf(
            "refusing a plaintext NATS connection to {} (not a loopback address): set nats-ca "
            "to the CA file that signed the server's certificate",
            host);
      }
    }
    return {};
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(tls.ca_file, ec)) {
    return failf("nats-ca {}: no such file", tls.ca_file);
  }
  std::string name = tls.server_name;
  if (name.empty()) {
    name = hosts->front();
    for (const auto& host : *hosts) {
      if (host != name) {
        return failf(
            "the NATS URLs name different hosts ({} and {}): set nats-tls-name to the name the "
            "server's certificate carries",
            name, host);
      }
    }
  }
  // nats.c 3.4.1 makes its SSL_CTX in natsOptions_SetSecure with
  // SSL_CTX_set_default_verify_paths (src/opts.c, _createSSLCtx): on top of any CA we load, it
  // trusts the system store, whose file and directory OpenSSL reads from SSL_CERT_FILE and
  // SSL_CERT_DIR at that moment. Pointing both at the pinned CA while the context is made leaves
  // that CA as the only anchor (as a directory it holds no hashed certificates). nats.c has no
  // other way in: no accessor to the SSL_CTX and no verify callback in this version.
  std::lock_guard lock(env_mutex());
  natsStatus s = NATS_OK;
  {
    // Unset, the variables mean OpenSSL's built-in locations: those are put back instead.
    ScopedEnv file(X509_get_default_cert_file_env(), tls.ca_file, X509_get_default_cert_file());
    ScopedEnv dir(X509_get_default_cert_dir_env(), tls.ca_file, X509_get_default_cert_dir());
    s = natsOptions_SetSecure(opts, true);
  }
  if (s != NATS_OK) return std::unexpected(to_error(s, "enabling TLS for NATS"));
  s = natsOptions_LoadCATrustedCertificates(opts, tls.ca_file.c_str());
  if (s != NATS_OK) {
    return std::unexpected(to_error(s, fmt::format("nats-ca {}: not a PEM CA file", tls.ca_file)));
  }
  s = natsOptions_SetExpectedHostname(opts, name.c_str());
  if (s != NATS_OK) return std::unexpected(to_error(s, "setting the expected TLS name " + name));
  return {};
}

namespace {

std::string expected_name(std::string_view urls, const TlsClientOptions& tls) {
  if (!tls.server_name.empty()) return tls.server_name;
  auto hosts = url_hosts(urls);
  return hosts && !hosts->empty() ? hosts->front() : std::string(urls);
}

}  // namespace

std::string describe_connect_failure(natsStatus status, std::string_view detail,
                                     std::string_view urls, const TlsClientOptions& tls) {
  std::string raw = std::string(natsStatus_GetText(status));
  if (!detail.empty() && detail != raw) raw += fmt::format(" ({})", detail);
  std::string cause;
  if (status == NATS_SECURE_CONNECTION_WANTED) {
    cause = fmt::format(
        "the server does not offer TLS, but nats-ca {} requires it (a plaintext server: "
        "render its config with --tls-cert and --tls-key)",
        tls.ca_file);
  } else if (status == NATS_SSL_ERROR && tls.ca_file.empty()) {
    cause = "the server requires TLS, but no nats-ca is set: set it to the server's CA file";
  } else if (status == NATS_SSL_ERROR && contains(detail, "hostname mismatch")) {
    cause = fmt::format(
        "the server's certificate is not valid for the name {} (set nats-tls-name if the server "
        "is reached under another name)",
        expected_name(urls, tls));
  } else if (status == NATS_SSL_ERROR &&
             (contains(detail, "certificate") || contains(detail, "verify"))) {
    cause = fmt::format("the server's certificate is not signed by the pinned CA {}", tls.ca_file);
  } else if (status == NATS_SSL_ERROR) {
    cause = "the TLS handshake failed";
  }
  if (cause.empty()) return fmt::format("connecting to {}: {}", urls, raw);
  return fmt::format("connecting to {}: {}; {}", urls, cause, raw);
}

void close_library() {
  OPENSSL_cleanup();
  nats_Close();
}

}  // namespace rmm::nats
