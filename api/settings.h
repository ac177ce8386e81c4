// rmm-api's declared settings and the typed configuration built from them.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "api/auth/oidc/oidc_config.h"
#include "common/config.h"
#include "common/control_plane_events.h"
#include "common/log.h"
#include "common/nats_tls.h"
#include "common/result.h"

namespace rmm::api {

// Every setting rmm-api reads, with defaults, bounds and descriptions (also the --help text).
std::span<const config::Setting> settings();

struct ApiConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8080;
  std::string tls_cert;  // both set: HTTPS (api/server/tls_context.h)
  std::string tls_key;
  // How often a new connection may look for renewed TLS files (no setting: tests shorten it).
  std::chrono::milliseconds tls_check_interval{60'000};
  bool allow_plain_http = false;
  // scheme://host[:port] agents and installers use; always set by to_config.
  std::string public_url;
  std::string pg_url;
  int pg_pool_size = 4;
  std::string nats_url;
  std::string nats_creds;
  nats::TlsClientOptions nats_tls;  // nats-ca, nats-tls-name
  std::string web_dir;
  int threads = 2;
  std::chrono::milliseconds request_timeout{30'000};
  std::uint64_t max_body = 1 << 20;
  std::chrono::milliseconds offline_after{90'000};
  // GET /metrics re-counts the agents at most this often (no setting: tests shorten it).
  std::chrono::milliseconds metrics_refresh{10'000};
  std::chrono::milliseconds shutdown_grace{10'000};
  log::Level log_level = log::Level::kInfo;
  std::string enroll_home;    // empty: no enrollment responder
  std::string command_keys;   // empty: no command can be issued (admin/command_keys.h)
  std::string nats_pid_file;  // empty: <enroll_home>/run/nats.pid
  std::chrono::milliseconds session_ttl{12 * 3600'000};
  int login_max_failures = 5;
  std::chrono::milliseconds login_lockout{15 * 60'000};
  int login_source_burst = 10;
  int login_source_per_minute = 10;
  int login_hash_concurrency = 1;
  std::string trusted_proxies;                  // comma-separated IP addresses
  std::vector<schema::UserRole> totp_required;  // roles that must sign in with TOTP
  std::size_t live_max_streams = 256;
  std::size_t live_max_per_user = 16;
  std::size_t live_max_per_session = 8;
  // The one-line agent install (api/install/install_routes.h, docs/enrollment.md).
  std::string public_nats_url;  // empty: the first of nats-url
  std::string install_ca_file;  // the CA the installer pins; to_config: default nats-ca
  std::string agent_packages_dir = "/var/lib/gururmm/downloads";
  // The Windows installer of a site (api/install/windows_installer.h): where the generic MSI is
  // (to_config: default agent_packages_dir), and msibuild (no setting: tests point it elsewhere).
  std::string windows_installer_dir;
  std::string msibuild = "/usr/bin/msibuild";
  oidc::OidcConfig oidc;  // settings oidc-* (api/auth/oidc/oidc_settings.cc)
};

// Builds the typed configuration; an invalid value fails with a message naming the key.
Result<ApiConfig> to_config(const config::Values& values);

// "host:port" or "[v6]:port" -> host and port. Port 0 asks the OS for a free one.
Result<std::pair<std::string, std::uint16_t>> parse_listen(std::string_view text);

}  // namespace rmm::api
