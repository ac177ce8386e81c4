// rmm-agent: runs on each endpoint and reports to the GuruRMM broker.
#include <array>
#include <cstdio>

#include "agent/agent.h"
#include "common/config.h"
#include "common/log.h"
#include "common/shutdown.h"

namespace {

using rmm::config::Setting;
using rmm::config::Type;

constexpr std::array<Setting, 4> kSettings = {{
    {"state-dir", Type::kString, "/var/lib/gururmm", "agent state: identity, credential, sequence"},
    {"nats-url", Type::kString, "nats://127.0.0.1:4222", "broker URL"},
    {"heartbeat-interval", Type::kDuration, "30s", "time between heartbeats", 1'000, 3'600'000},
    {"log-level", Type::kString, "info", "debug, info, warn or error"},
}};

}  // namespace

int main(int argc, char** argv) {
  rmm::shutdown::install();
  rmm::log::set_component("agent");
  auto cfg = rmm::config::Values::load(kSettings, argc, argv);
  if (!cfg) {
    std::fprintf(stderr, "rmm-agent: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->help_requested()) {
    std::fputs(rmm::config::usage("rmm-agent [options]",
                                  "Reports this machine to GuruRMM: AgentStarted, then heartbeats.",
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
  rmm::agent::AgentSettings settings{cfg->str("state-dir"), cfg->str("nats-url"),
                                     cfg->duration("heartbeat-interval")};
  auto st = rmm::agent::run_agent(settings, rmm::real_clock());
  if (!st) {
    rmm::log::error("agent.failed", {{"error", st.error().message}});
    return 1;
  }
  return 0;
}
