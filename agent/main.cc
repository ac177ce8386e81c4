// rmm-agent: runs on each endpoint and reports to the GuruRMM broker.
#include <array>
#include <cstdio>
#include <string_view>

#include "agent/agent.h"
#include "agent/enroll/enroll_command.h"
#include "common/config.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace {

using rmm::config::Setting;
using rmm::config::Type;

constexpr std::array<Setting, 8> kSettings = {{
    {"state-dir", Type::kString, "/var/lib/gururmm", "agent state: identity, credential, outbox"},
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "broker URL"},
    {"heartbeat-interval", Type::kDuration, "30s", "time between heartbeats", 1'000, 3'600'000},
    {"metrics-interval", Type::kDuration, "60s", "time between metrics samples", 1'000, 3'600'000},
    {"inventory-interval", Type::kDuration, "6h", "time between inventories", 60'000,
     7 * 86'400'000},
    {"outbox-budget", Type::kInt, "268435456",
     "bytes the outbox may hold before metrics are dropped, oldest first", 1 << 20,
     64ll << 30},
    {"publish-window", Type::kInt, "1024", "events in flight to the broker at most", 1, 65'536},
    {"log-level", Type::kString, "info", "debug, info, warn or error"},
}};

}  // namespace

int main(int argc, char** argv) {
  rmm::log::set_component("agent");
  if (argc > 1 && std::string_view(argv[1]) == "enroll") {
    return rmm::agent::enroll::run_enroll_command(argc - 1, argv + 1);
  }
  rmm::shutdown::install();
  auto cfg = rmm::config::Values::load(kSettings, argc, argv);
  if (!cfg) {
    std::fprintf(stderr, "rmm-agent: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->help_requested()) {
    std::fputs(rmm::config::usage("rmm-agent [options]",
                                  "Reports this machine to GuruRMM: heartbeats, metrics and inventory, through a durable outbox.",
                                  kSettings)
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
  rmm::agent::AgentSettings settings{
      .state_dir = cfg->str("state-dir"),
      .nats_url = cfg->str("nats-url"),
      .heartbeat_interval = cfg->duration("heartbeat-interval"),
      .metrics_interval = cfg->duration("metrics-interval"),
      .inventory_interval = cfg->duration("inventory-interval"),
      .outbox_budget_bytes = static_cast<std::uint64_t>(cfg->integer("outbox-budget")),
      .publish_window = static_cast<int>(cfg->integer("publish-window")),
  };
  auto st = rmm::agent::run_agent(settings, rmm::real_clock());
  if (!st) {
    rmm::log::error("agent.failed", {{"error", st.error().message}});
    return 1;
  }
  return 0;
}
