// rmm-updater: replaces the agent with a signed release and rolls back when the new version does
// not come up healthy. Started detached by rmm-agent on an update_agent command
// (docs/updates.md).
#include <array>
#include <cstdio>

#include "common/agent_local.h"
#include "common/config.h"
#include "common/install_paths.h"
#include "common/log.h"
#include "common/nats_tls_settings.h"
#include "updater/agent_control.h"
#include "updater/release/manifest.h"
#include "updater/release/trusted_keys.h"
#include "updater/update_run.h"

namespace {

using rmm::config::Setting;
using rmm::config::Type;

const std::array<Setting, 16> kSettings = {{
    {"state-dir", Type::kString, rmm::install_paths::agent_state_dir(), "the agent's state dir"},
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "broker URL"},
    {"nats-ca", Type::kString, "",
     "CA file to pin for NATS (TLS required); default <state-dir>/ca.pem when present"},
    rmm::nats::kNatsTlsNameSetting,
    {"nats-js-domain", Type::kString, "",
     "JetStream domain of RMM_RELEASES: `hub` behind a site's leaf node; empty: the server "
     "connected to"},
    {"agent-binary", Type::kString, "", "the agent binary to replace", 0, 0, true},
    {"version", Type::kString, "", "the version to install", 0, 0, true},
    {"from-version", Type::kString, "", "the running agent's version (downgrade check)"},
    {"command-id", Type::kString, "", "the update_agent command's id", 0, 0, true},
    {"sha256", Type::kString, "", "the artifact's SHA-256 stated by the command, if any"},
    {"allow-downgrade", Type::kBool, "false", "accept a signed older version"},
    {"fetch-timeout", Type::kDuration, "10s", "per request to the broker", 100, 600'000},
    {"stop-grace", Type::kDuration, "30s", "SIGTERM to SIGKILL when stopping the agent", 100,
     600'000},
    {"health-timeout", Type::kDuration, "60s", "for the new agent to report its version", 500,
     3'600'000},
    {"stable-for", Type::kDuration, "5s", "the new agent must stay up this long", 0, 600'000},
    {"log-level", Type::kString, "info", "debug, info, warn or error"},
}};

}  // namespace

int main(int argc, char** argv) {
  rmm::log::set_component("updater");
  auto cfg = rmm::config::Values::load(kSettings, argc, argv);
  if (!cfg) {
    std::fprintf(stderr, "rmm-updater: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->help_requested()) {
    std::fputs(
        rmm::config::usage("rmm-updater [options]",
                           "Installs a signed agent release; rolls back if unhealthy.", kSettings)
            .c_str(),
        stdout);
    return 0;
  }
  if (auto level = rmm::log::parse_level(cfg->str("log-level")); level) {
    rmm::log::set_level(*level);
  }
  auto command = rmm::CommandId::parse(cfg->str("command-id"));
  if (!command) {
    std::fprintf(stderr, "rmm-updater: setting 'command-id': %s\n",
                 command.error().message.c_str());
    return 2;
  }
  rmm::updater::UpdateRequest r{
      .state_dir = cfg->str("state-dir"),
      .nats_url = cfg->str("nats-url"),
      .nats_tls = {.ca_file = rmm::local::agent_nats_ca(cfg->str("state-dir"), cfg->str("nats-ca")),
                   .server_name = cfg->str("nats-tls-name")},
      .nats_js_domain = cfg->str("nats-js-domain"),
      .agent_binary = cfg->str("agent-binary"),
      .version = cfg->str("version"),
      .from_version = cfg->str("from-version"),
      .command = *command,
      .sha256 = cfg->str("sha256"),
      .allow_downgrade = cfg->flag("allow-downgrade"),
      .platform = rmm::release::host_platform(),
      .arch = rmm::release::host_arch(),
      .fetch_timeout = cfg->duration("fetch-timeout"),
      .stop_grace = cfg->duration("stop-grace"),
      .health_timeout = cfg->duration("health-timeout"),
      .stable_for = cfg->duration("stable-for"),
  };
  auto control = rmm::updater::make_agent_control(r.state_dir);
  auto outcome =
      rmm::updater::run_update(r, rmm::release::trusted_keys(), *control, rmm::real_clock());
  return static_cast<int>(outcome);
}
