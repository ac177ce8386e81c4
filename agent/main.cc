// rmm-agent: runs on each endpoint and reports to the GuruRMM broker.
// Windows: also a service of the service control manager (GuruRMMAgent; common/service_host.h).
// `rmm-agent install-service [options]` registers it as one for machines without rmm-watchdog
// (which starts the agent itself: install one or the other).
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent.h"
#include "agent/commands/trust_keys_command.h"
#include "agent/enroll/enroll_command.h"
#include "agent/enroll/first_start.h"
#include "agent/settings.h"
#include "common/agent_local.h"
#include "common/config.h"
#include "common/log.h"
#include "common/service_host.h"
#include "common/shutdown.h"

namespace {

int install_service(int argc, char** argv) {
  std::vector<std::string> command = {""};  // this executable
  command.insert(command.end(), argv + 2, argv + argc);
  return rmm::service::install_command(
      "rmm-agent", {.name = rmm::service::kAgentServiceName,
                    .display_name = "GuruRMM Agent",
                    .description = "Reports this machine to GuruRMM and runs its commands.",
                    .command = std::move(command)});
}

int agent_main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "enroll") {
    return rmm::agent::enroll::run_enroll_command(argc - 1, argv + 1);
  }
  if (argc > 1 && std::string_view(argv[1]) == "trust-command-keys") {
    return rmm::agent::run_trust_keys_command(argc - 1, argv + 1);
  }
  rmm::shutdown::install();
  auto cfg = rmm::config::Values::load(rmm::agent::agent_settings(), argc, argv);
  if (!cfg) {
    std::fprintf(stderr, "rmm-agent: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->help_requested()) {
    std::fputs(rmm::config::usage(
                   "rmm-agent [options]",
                   "Reports this machine to GuruRMM and runs its commands, through a durable "
                   "outbox. `rmm-agent enroll --help` enrolls it.",
                   rmm::agent::agent_settings())
                   .c_str(),
               stdout);
    return 0;
  }
  auto level = rmm::log::parse_level(cfg->str("log-level"));
  if (!level) {
    std::fprintf(stderr, "rmm-agent: setting 'log-level': %s\n", level.error().message.c_str());
    return 2;
  }
  rmm::log::set_level(*level);
  // Before the settings below: enrollment may write the CA they pin (<state-dir>/ca.pem).
  auto first =
      rmm::agent::enroll::enroll_at_first_start({.state_dir = cfg->str("state-dir"),
                                                 .nats_url = cfg->str("nats-url"),
                                                 .tls_server_name = cfg->str("nats-tls-name")});
  if (!first) {
    rmm::log::error("agent.enroll_failed", {{"error", first.error().message}});
    return 1;
  }
  rmm::agent::AgentSettings settings{
      .state_dir = cfg->str("state-dir"),
      .nats_url = cfg->str("nats-url"),
      .nats_tls = {.ca_file = rmm::local::agent_nats_ca(cfg->str("state-dir"), cfg->str("nats-ca")),
                   .server_name = cfg->str("nats-tls-name")},
      .nats_js_domain = cfg->str("nats-js-domain"),
      .heartbeat_interval = cfg->duration("heartbeat-interval"),
      .metrics_interval = cfg->duration("metrics-interval"),
      .inventory_interval = cfg->duration("inventory-interval"),
      .outbox_budget_bytes = static_cast<std::uint64_t>(cfg->integer("outbox-budget")),
      .publish_window = static_cast<int>(cfg->integer("publish-window")),
      .disabled_collectors = cfg->str("disabled-collectors"),
      .command_concurrency = static_cast<int>(cfg->integer("command-concurrency")),
      .command_timeout = cfg->duration("command-timeout"),
      .command_output_cap = static_cast<std::size_t>(cfg->integer("command-output-cap")),
      .updater = cfg->str("updater"),
  };
  auto st = rmm::agent::run_agent(settings, rmm::real_clock());
  if (!st) {
    rmm::log::error("agent.failed", {{"error", st.error().message}});
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  rmm::log::set_component("agent");
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "install-service") return install_service(argc, argv);
  if (command == "uninstall-service") {
    return rmm::service::uninstall_command("rmm-agent", rmm::service::kAgentServiceName);
  }
  return rmm::service::run(rmm::service::kAgentServiceName, agent_main, argc, argv);
}
