#include "api/settings.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "api/auth/oidc/oidc_settings.h"
#include "api/auth/oidc/oidc_url.h"
#include "common/install_paths.h"
#include "common/nats_tls_settings.h"

namespace rmm::api {
namespace {

using config::Setting;
using config::Type;

constexpr std::array kCoreSettings = {
    Setting{"listen", Type::kString, "127.0.0.1:8080",
            "listen address, host:port; plain HTTP only on a loopback address (see "
            "allow-plain-http)"},
    Setting{"tls-cert", Type::kString, "",
            "PEM file of the server certificate (then any intermediates): serve HTTPS; with "
            "tls-key; a changed file is picked up within a minute, no restart"},
    Setting{"tls-key", Type::kString, "", "PEM file of tls-cert's private key"},
    Setting{"allow-plain-http", Type::kBool, "false",
            "serve plain HTTP on a non-loopback listen address: only behind a reverse proxy that "
            "terminates TLS (docs/operations.md, HTTPS)"},
    Setting{"public-url", Type::kString, "",
            "the https URL agents and installers reach this API at (https://rmm.example.com); "
            "default: from listen and TLS, required when listen is a wildcard address"},
    Setting{"pg-url", Type::kString, "postgresql://127.0.0.1:5432/gururmm",
            "PostgreSQL URL of the read models (read-only use)"},
    Setting{"pg-pool-size", Type::kInt, "4",
            "PostgreSQL connections, also the number of request worker threads", 1, 64},
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222",
            "NATS server URL(s), comma separated"},
    Setting{"nats-creds", Type::kString, "",
            "NATS user credentials file (.creds); empty connects without credentials"},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    Setting{"web-dir", Type::kString, install_paths::kWebDir,
            "directory of the static dashboard files"},
    Setting{"threads", Type::kInt, "2", "HTTP I/O threads", 1, 64},
    Setting{"request-timeout", Type::kDuration, "30s",
            "time allowed to read a request or write a response; also the SQL statement timeout",
            100, 600'000},
    Setting{"max-body", Type::kInt, "1048576", "largest accepted request body in bytes", 0,
            64 << 20},
    Setting{"offline-after", Type::kDuration, "90s",
            "an agent is offline when its last event is older than this (3 heartbeats)", 1000,
            86'400'000},
    Setting{"shutdown-grace", Type::kDuration, "10s",
            "on SIGTERM/SIGINT, how long in-flight requests may take to finish", 0, 600'000},
    Setting{"log-level", Type::kString, "info", "debug, info, warn or error"},
    Setting{"session-ttl", Type::kDuration, "12h", "how long a sign-in session lasts", 60'000,
            30LL * 86'400'000},
    Setting{"login-max-failures", Type::kInt, "5",
            "failed sign-ins of one username from one source address (within login-lockout) that "
            "lock that username for that address",
            1, 1000},
    Setting{"login-lockout", Type::kDuration, "15m",
            "how long a username stays locked for an address after too many failed sign-ins", 1000,
            86'400'000},
    Setting{"login-source-burst", Type::kInt, "10",
            "sign-in attempts one source address may make at once, over every rmm-api of the "
            "database (a success gives its back)",
            1, 100'000},
    Setting{"login-source-per-minute", Type::kInt, "10",
            "sign-in attempts one source address regains per minute", 1, 100'000},
    Setting{"login-hash-concurrency", Type::kInt, "1",
            "Argon2id password checks run at once (as many more may wait); below pg-pool-size", 1,
            64},
    Setting{"trusted-proxies", Type::kString, "",
            "comma-separated addresses of reverse proxies whose X-Forwarded-For names the client "
            "(for per-address sign-in limits); empty believes no header"},
    Setting{"totp-required-roles", Type::kString, "",
            "comma-separated roles (read_only, technician, admin, owner) that must sign in with a "
            "TOTP second factor; a user of such a role without one enrols at its next sign-in"},
    Setting{"live-max-streams", Type::kInt, "256",
            "open GET /api/v1/live streams per rmm-api; the last live-max-per-user kept for owners",
            2, 100'000},
    Setting{"live-max-per-user", Type::kInt, "16",
            "live streams of one user (a newer one ends the oldest); below live-max-streams", 1,
            10'000},
    Setting{"live-max-per-session", Type::kInt, "8",
            "live streams of one sign-in (a newer one ends the oldest)", 1, 10'000},
    Setting{"enroll-home", Type::kString, "",
            "installation home whose nats/ holds the agent signing key: enables the enrollment "
            "responder (docs/enrollment.md); empty disables it"},
    Setting{"command-keys", Type::kString, "",
            "directory with the command signing key and the trusted command keys "
            "(docs/command-signing.md); default <enroll-home>/command-keys; without one no "
            "command can be issued"},
    Setting{"public-nats-url", Type::kString, "",
            "the broker URL enrolled agents use (tls://rmm.example.com:4222); empty: the first "
            "of nats-url"},
    Setting{"install-ca-file", Type::kString, "",
            "the CA certificate (PEM) the one-line installer gives agents to pin; default nats-ca"},
    Setting{"agent-packages-dir", Type::kString, "/var/lib/gururmm/downloads",
            "directory of the gururmm-agent_<version>_<arch>.deb files the installer offers"},
    Setting{"windows-installer-dir", Type::kString, "",
            "directory of the generic Windows agent package gururmm-agent-<version>-x64.msi "
            "(the newest is offered) that GET /api/v1/sites/{id}/installer copies with a site's "
            "settings (msibuild, Debian package msitools); default agent-packages-dir"},
    Setting{"nats-pid-file", Type::kString, "",
            "pid file of the nats-server that enrollment and revocation reload after changing the "
            "account (SIGHUP); default <enroll-home>/run/nats.pid"},
};

constexpr auto kSettings = [] {
  std::array<Setting, kCoreSettings.size() + oidc::kOidcSettings.size()> all{};
  std::ranges::copy(kCoreSettings, all.begin());
  std::ranges::copy(oidc::kOidcSettings, all.begin() + kCoreSettings.size());
  return all;
}();

// tls-cert, tls-key, allow-plain-http and public-url, once listen is known.
Status transport_config(const config::Values& values, ApiConfig& c) {
  c.tls_cert = values.str("tls-cert");
  c.tls_key = values.str("tls-key");
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    return fail("settings 'tls-cert' and 'tls-key': set both (HTTPS) or neither");
  }
  c.allow_plain_http = values.flag("allow-plain-http");
  const bool tls = !c.tls_cert.empty();
  if (!tls && !c.allow_plain_http && !oidc::is_loopback_host(c.listen_host)) {
    return failf(
        "setting 'listen': {} is not a loopback address, and plain HTTP would carry passwords and "
        "session tokens unencrypted: set tls-cert and tls-key to serve HTTPS, or, behind a reverse "
        "proxy that terminates TLS, set allow-plain-http (docs/operations.md, HTTPS)",
        c.listen_host);
  }
  std::string url = values.str("public-url");
  if (url.empty()) {
    if (c.listen_host == "0.0.0.0" || c.listen_host == "::") {
      return fail(
          "setting 'public-url': required when listen is a wildcard address: the https URL "
          "agents and installers reach this server at (https://rmm.example.com)");
    }
    const bool v6 = c.listen_host.find(':') != std::string::npos;
    c.public_url = fmt::format("{}://{}{}{}:{}", tls ? "https" : "http", v6 ? "[" : "",
                               c.listen_host, v6 ? "]" : "", c.listen_port);
    return {};
  }
  while (url.ends_with('/')) url.pop_back();
  auto parsed = oidc::parse_url(url);
  if (!parsed) return failf("setting 'public-url': {}", parsed.error().message);
  if (parsed->target != "/") {
    return fail("setting 'public-url': scheme, host and port only (no path or query)");
  }
  if (!parsed->https && !oidc::is_loopback_host(parsed->host)) {
    return fail(
        "setting 'public-url': must be https:// (agents download and enroll through it); plain "
        "http:// only to a loopback host");
  }
  c.public_url = std::move(url);
  return {};
}

}  // namespace

std::span<const config::Setting> settings() {
  return kSettings;
}

Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return fail(Error::Code::kInvalidInput, "expected host:port");
  }
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return fail(Error::Code::kInvalidInput, "bad [ipv6] host");
    }
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return fail(Error::Code::kInvalidInput, "port must be 0-65535");
  }
  return std::pair{std::string(host), static_cast<std::uint16_t>(port)};
}

Result<ApiConfig> to_config(const config::Values& values) {
  ApiConfig c;
  auto listen = parse_listen(values.str("listen"));
  if (!listen) return failf("setting 'listen': {}", listen.error().message);
  c.listen_host = listen->first;
  c.listen_port = listen->second;
  if (auto s = transport_config(values, c); !s) return std::unexpected(s.error());
  c.pg_url = values.str("pg-url");
  c.pg_pool_size = static_cast<int>(values.integer("pg-pool-size"));
  c.nats_url = values.str("nats-url");
  c.nats_creds = values.str("nats-creds");
  c.nats_tls = nats::tls_options(values);
  c.web_dir = values.str("web-dir");
  if (c.web_dir.empty()) return fail("setting 'web-dir': must not be empty");
  c.threads = static_cast<int>(values.integer("threads"));
  c.request_timeout = values.duration("request-timeout");
  c.max_body = static_cast<std::uint64_t>(values.integer("max-body"));
  c.offline_after = values.duration("offline-after");
  c.shutdown_grace = values.duration("shutdown-grace");
  auto level = log::parse_level(values.str("log-level"));
  if (!level) return failf("setting 'log-level': {}", level.error().message);
  c.log_level = *level;
  c.enroll_home = values.str("enroll-home");
  c.command_keys = values.str("command-keys");
  c.nats_pid_file = values.str("nats-pid-file");
  if (c.command_keys.empty() && !c.enroll_home.empty()) {
    c.command_keys = c.enroll_home + "/command-keys";
  }
  c.session_ttl = values.duration("session-ttl");
  c.login_max_failures = static_cast<int>(values.integer("login-max-failures"));
  c.login_lockout = values.duration("login-lockout");
  c.login_source_burst = static_cast<int>(values.integer("login-source-burst"));
  c.login_source_per_minute = static_cast<int>(values.integer("login-source-per-minute"));
  c.login_hash_concurrency = static_cast<int>(values.integer("login-hash-concurrency"));
  if (c.login_hash_concurrency >= c.pg_pool_size) {
    return fail(
        "setting 'login-hash-concurrency': must be below pg-pool-size (the request workers)");
  }
  c.trusted_proxies = values.str("trusted-proxies");
  const std::string roles = values.str("totp-required-roles");
  for (std::string_view rest = roles; !rest.empty();) {
    auto comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (name.empty()) continue;
    auto role = codec::role_from_name(name);
    if (!role) return failf("setting 'totp-required-roles': '{}' is not a role", name);
    c.totp_required.push_back(*role);
  }
  c.live_max_streams = static_cast<std::size_t>(values.integer("live-max-streams"));
  c.live_max_per_user = static_cast<std::size_t>(values.integer("live-max-per-user"));
  c.live_max_per_session = static_cast<std::size_t>(values.integer("live-max-per-session"));
  if (c.live_max_streams <= c.live_max_per_user) {
    return fail(
        "setting 'live-max-streams': must be above live-max-per-user (owners keep that many)");
  }
  c.public_nats_url = values.str("public-nats-url");
  if (c.public_nats_url.empty()) c.public_nats_url = c.nats_url.substr(0, c.nats_url.find(','));
  c.install_ca_file = values.str("install-ca-file");
  if (c.install_ca_file.empty()) c.install_ca_file = c.nats_tls.ca_file;
  c.agent_packages_dir = values.str("agent-packages-dir");
  c.windows_installer_dir = values.str("windows-installer-dir");
  if (c.windows_installer_dir.empty()) c.windows_installer_dir = c.agent_packages_dir;
  auto oidc = oidc::oidc_config(values);
  if (!oidc) return std::unexpected(oidc.error());
  c.oidc = std::move(*oidc);
  return c;
}

}  // namespace rmm::api
