#include "agent/settings.h"

#include <array>

#include "common/install_paths.h"
#include "common/nats_tls_settings.h"

namespace rmm::agent {
namespace {

using config::Setting;
using config::Type;

const std::array<Setting, 16> kSettings = {{
    {"state-dir", Type::kString, rmm::install_paths::agent_state_dir(),
     "agent state: identity, credential, outbox"},
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "broker URL"},
    {"nats-ca", Type::kString, "",
     "CA file to pin for NATS (TLS required); default <state-dir>/ca.pem when enrollment wrote "
     "it, else plaintext to a loopback URL only"},
    nats::kNatsTlsNameSetting,
    {"nats-js-domain", Type::kString, "",
     "JetStream domain of the commands: `hub` for an agent of a site with a leaf node; empty: "
     "the server the agent connects to"},
    {"heartbeat-interval", Type::kDuration, "30s", "time between heartbeats", 1'000, 3'600'000},
    {"metrics-interval", Type::kDuration, "60s", "time between metrics samples", 1'000, 3'600'000},
    {"inventory-interval", Type::kDuration, "6h", "time between inventories", 60'000,
     7 * 86'400'000},
    {"disabled-collectors", Type::kString, "",
     "comma-separated collector names not to run (agent/collectors/registry.cc)"},
    {"outbox-budget", Type::kInt, "268435456",
     "bytes the outbox may hold before metrics are dropped, oldest first", 1 << 20, 64ll << 30},
    {"publish-window", Type::kInt, "1024", "events in flight to the broker at most", 1, 65'536},
    {"command-concurrency", Type::kInt, "4", "commands running at once; more wait in order", 1, 64},
    {"command-timeout", Type::kDuration, "10m", "timeout of a command that names none", 1'000,
     86'400'000},
    {"command-output-cap", Type::kInt, "1048576",
     "bytes kept per output stream of a command that names no cap", 1024, 16 << 20},
    {"log-level", Type::kString, "info", "debug, info, warn or error"},
    {"updater", Type::kString, rmm::install_paths::agent_updater(),
     "rmm-updater, started detached on update_agent; empty rejects update_agent"},
}};

}  // namespace

std::span<const config::Setting> agent_settings() {
  return kSettings;
}

}  // namespace rmm::agent
