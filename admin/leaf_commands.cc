#include "admin/leaf_commands.h"

#include <fmt/format.h>

#include <cstdio>
#include <limits>

#include "admin/leaf_config.h"
#include "admin/site_sources.h"
#include "admin/streams.h"
#include "common/files.h"
#include "common/nats_tls_settings.h"

namespace rmm::admin {
namespace {

namespace fs = std::filesystem;
using config::Setting;
using config::Type;

constexpr std::int64_t kAny = std::numeric_limits<std::int64_t>::max();
constexpr Setting kHome{"home", Type::kString, "",  "installation home; keys live in <home>/nats",
                        -kAny,  kAny,          true};
constexpr Setting kSite{
    "site", Type::kString,
    "",     "the site's name: its leaf node's JetStream domain (letters, digits, - _)",
    -kAny,  kAny,
    true};

constexpr Setting kRenderLeafSettings[] = {
    kHome,
    kSite,
    {"nats-host", Type::kString, "127.0.0.1",
     "address the site's agents connect to; anything but loopback needs --tls-cert and --tls-key"},
    {"nats-port", Type::kInt, "", "client port of the leaf node", 1, 65535, true},
    {"nats-monitor-port", Type::kInt, "0", "HTTP monitor port on 127.0.0.1; 0 = none", 0, 65535},
    {"jetstream-dir", Type::kString, "", "the leaf's JetStream store dir", -kAny, kAny, true},
    {"max-file-store", Type::kSize, "0", "JetStream's store limit; 0 = the filesystem's size", 0,
     kAny},
    {"tls-cert", Type::kString, "", "the leaf's server certificate (PEM) for its agents"},
    {"tls-key", Type::kString, "", "the certificate's private key (PEM)"},
    {"hub-url", Type::kString, "", "the hub's leafnode listener, nats-leaf://host:port", -kAny,
     kAny, true},
    {"leaf-creds", Type::kString, "", "the leaf's .creds file (rmm-admin leaf-credential)", -kAny,
     kAny, true},
    {"hub-ca", Type::kString, "", "CA of the hub's certificate; empty: plaintext (loopback only)"},
    {"out", Type::kString, "", "file to write the config to (mode 0600)", -kAny, kAny, true},
};

constexpr Setting kLeafCredentialSettings[] = {
    kHome,
    kSite,
    {"out", Type::kString, "", "file to write the .creds to (mode 0600)", -kAny, kAny, true},
};

constexpr Setting kSiteSourceSettings[] = {
    kSite,
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "the hub's NATS URL"},
    {"nats-creds", Type::kString, "", "services user .creds file", -kAny, kAny, true},
    nats::kNatsCaSetting,
    nats::kNatsTlsNameSetting,
    {"remove", Type::kBool, "false", "stop sourcing the site (its leaf keeps what it holds)"},
    {"timeout", Type::kDuration, "5s", "per-request timeout", 100, 600'000},
};

int failed(const Error& e) {
  std::fprintf(stderr, "rmm-admin: %s\n", e.message.c_str());
  return 1;
}

}  // namespace

std::span<const Setting> render_leaf_settings() {
  return kRenderLeafSettings;
}
std::span<const Setting> leaf_credential_settings() {
  return kLeafCredentialSettings;
}
std::span<const Setting> site_source_settings() {
  return kSiteSourceSettings;
}

int run_render_leaf(const config::Values& v) {
  auto id = broker::load_identity(v.str("home"));
  if (!id) return failed(id.error());
  broker::ServerConfigOptions base{.host = v.str("nats-host"),
                                   .port = static_cast<int>(v.integer("nats-port")),
                                   .monitor_port = static_cast<int>(v.integer("nats-monitor-port")),
                                   .jetstream_dir = v.str("jetstream-dir"),
                                   .max_file_store = v.size("max-file-store"),
                                   .tls_cert = v.str("tls-cert"),
                                   .tls_key = v.str("tls-key")};
  broker::LeafRemoteOptions remote{.site = v.str("site"),
                                   .hub_url = v.str("hub-url"),
                                   .credentials = v.str("leaf-creds"),
                                   .hub_ca = v.str("hub-ca")};
  auto text = broker::render_leaf_config(*id, base, remote);
  if (!text) return failed(text.error());
  if (auto s = files::write_atomic(v.str("out"), *text, 0600); !s) return failed(s.error());
  return 0;
}

int run_leaf_credential(const config::Values& v) {
  if (auto s = broker::check_site(v.str("site")); !s) return failed(s.error());
  auto id = broker::load_identity(v.str("home"));
  if (!id) return failed(id.error());
  if (auto s =
          files::write_atomic(v.str("out"), broker::leaf_credentials(*id, v.str("site")), 0600);
      !s) {
    return failed(s.error());
  }
  return 0;
}

int run_site_source(const config::Values& v) {
  auto nc =
      broker::connect_with_creds(v.str("nats-url"), v.str("nats-creds"), nats::tls_options(v));
  if (!nc) return failed(nc.error());
  auto change =
      broker::set_site_source(*nc, v.str("site"), !v.flag("remove"), v.duration("timeout"));
  natsConnection_Destroy(*nc);
  if (!change) return failed(change.error());
  constexpr std::string_view kWords[] = {"added", "removed", "unchanged"};
  fmt::print("RMM_EVENTS source {} {}\n", v.str("site"), kWords[static_cast<int>(*change)]);
  return 0;
}

}  // namespace rmm::admin
