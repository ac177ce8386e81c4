// rmm-watchdog: supervises rmm-agent (docs/updates.md).
//   rmm-watchdog [options] -- <agent binary> [agent options]
//   rmm-watchdog install-service [options] -- <agent binary> [agent options]   (Windows)
//   rmm-watchdog uninstall-service                                              (Windows)
#include <algorithm>
#include <array>
#include <cstdio>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/install_paths.h"
#include "common/log.h"
#include "common/service_host.h"
#include "common/shutdown.h"
#include "watchdog/platform/process_control.h"
#include "watchdog/supervisor.h"

namespace {

using rmm::config::Setting;
using rmm::config::Type;

const std::array<Setting, 14> kSettings = {{
    {"state-dir", Type::kString, rmm::install_paths::agent_state_dir(), "the agent's state dir"},
    {"agent-log", Type::kString, "", "file for the agent's output (empty: the watchdog's)"},
    {"liveness-timeout", Type::kDuration, "60s", "agent health file older than this: hung", 1'000,
     3'600'000},
    {"backoff-initial", Type::kDuration, "1s", "first restart delay, doubled per crash", 10,
     600'000},
    {"backoff-max", Type::kDuration, "60s", "longest restart delay", 10, 3'600'000},
    {"stable-after", Type::kDuration, "60s", "a run this long resets the backoff", 100, 86'400'000},
    {"crash-loop-restarts", Type::kInt, "5", "exits within the window that make a crash loop", 2,
     1000},
    {"crash-loop-window", Type::kDuration, "5m", "the crash loop window", 1'000, 86'400'000},
    {"crash-loop-pause", Type::kDuration, "10m", "no restarts for this long after a crash loop",
     1'000, 86'400'000},
    {"stop-grace", Type::kDuration, "30s", "SIGTERM to SIGKILL when stopping the agent", 100,
     600'000},
    {"memory-limit", Type::kInt, "0", "agent RSS bytes that raise an alert (0: none)", 0,
     1ll << 40},
    {"cpu-limit", Type::kInt, "0", "agent CPU percent of one core that raises an alert (0: none)",
     0, 10'000},
    {"usage-interval", Type::kDuration, "10s", "how often memory and CPU are sampled", 100,
     3'600'000},
    {"log-level", Type::kString, "info", "debug, info, warn or error"},
}};

// Registers the watchdog, with this command line minus the subcommand, as the Windows service
// GuruRMMWatchdog.
int install_service(int argc, char** argv) {
  std::vector<std::string> command = {""};  // this executable
  command.insert(command.end(), argv + 2, argv + argc);
  if (std::find(command.begin(), command.end(), "--") == command.end()) {
    std::fputs("usage: rmm-watchdog install-service [options] -- <agent binary> [agent options]\n",
               stderr);
    return 2;
  }
  return rmm::service::install_command(
      "rmm-watchdog", {.name = rmm::service::kWatchdogServiceName,
                       .display_name = "GuruRMM Watchdog",
                       .description = "Starts the GuruRMM agent and keeps it running.",
                       .command = std::move(command)});
}

int watchdog_main(int argc, char** argv) {
  // Everything after "--" is the agent's command line.
  int own = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      own = i;
      break;
    }
  }
  std::vector<std::string> agent_argv(argv + std::min(own + 1, argc), argv + argc);
  auto cfg = rmm::config::Values::load(kSettings, own, argv);
  if (!cfg) {
    std::fprintf(stderr, "rmm-watchdog: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->help_requested() || agent_argv.empty()) {
    std::fputs(rmm::config::usage("rmm-watchdog [options] -- <agent binary> [agent options]",
                                  "Starts rmm-agent and keeps it alive (restarts with backoff, "
                                  "crash loop and resource alerts, cooperates with rmm-updater).",
                                  kSettings)
                   .c_str(),
               cfg->help_requested() ? stdout : stderr);
    return cfg->help_requested() ? 0 : 2;
  }
  if (auto level = rmm::log::parse_level(cfg->str("log-level")); level) {
    rmm::log::set_level(*level);
  }
  rmm::shutdown::install();
  auto processes = rmm::watchdog::make_process_control();
  if (!processes) {
    std::fprintf(stderr, "rmm-watchdog: %s\n", processes.error().message.c_str());
    return 1;
  }
  rmm::watchdog::SupervisorOptions options{
      .state_dir = cfg->str("state-dir"),
      .agent_argv = std::move(agent_argv),
      .agent_log = cfg->str("agent-log"),
      .crash = {.initial_backoff = cfg->duration("backoff-initial"),
                .max_backoff = cfg->duration("backoff-max"),
                .stable_after = cfg->duration("stable-after"),
                .loop_restarts = static_cast<std::uint32_t>(cfg->integer("crash-loop-restarts")),
                .loop_window = cfg->duration("crash-loop-window")},
      .crash_loop_pause = cfg->duration("crash-loop-pause"),
      .liveness_timeout = cfg->duration("liveness-timeout"),
      .stop_grace = cfg->duration("stop-grace"),
      .memory_limit_bytes = static_cast<std::uint64_t>(cfg->integer("memory-limit")),
      .cpu_limit_percent = static_cast<double>(cfg->integer("cpu-limit")),
      .usage_interval = cfg->duration("usage-interval"),
  };
  rmm::watchdog::Supervisor supervisor(std::move(options), **processes, rmm::real_clock());
  if (auto st = supervisor.run(); !st) {
    rmm::log::error("watchdog.failed", {{"error", st.error().message}});
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  rmm::log::set_component("watchdog");
  const std::string_view command = argc > 1 ? argv[1] : "";
  if (command == "install-service") return install_service(argc, argv);
  if (command == "uninstall-service") {
    return rmm::service::uninstall_command("rmm-watchdog", rmm::service::kWatchdogServiceName);
  }
  return rmm::service::run(rmm::service::kWatchdogServiceName, watchdog_main, argc, argv);
}
