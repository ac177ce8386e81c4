// rmm-sim: a simulated fleet of N agents, each with its own identity and NATS connection, in
// one process (tools/sim/fleet.h). Used by the benchmarks (tools/rmm bench) and scale tests.
//
//   rmm-sim --nats-home DIR [--nats-url nats://127.0.0.1:4222[,nats://...]] [--agents 1000]
//   [--duration 60s]
//
// Prints a JSON report on stdout at the end; progress on stderr.
#include <array>
#include <cstdio>

#include "common/config.h"
#include "common/log.h"
#include "common/nats_urls.h"
#include "tools/sim/fleet.h"

namespace {

using namespace rmm;
using config::Setting;
using Type = config::Type;

constexpr std::array kSettings{
    Setting{"nats-url", Type::kString, "nats://127.0.0.1:4222",
            "NATS server(s), comma-separated host:port (no TLS); agent i starts on the i-th"},
    Setting{"nats-home", Type::kString, "",
            "installation home holding nats/keys (the agent signing key)", 0, 0, true},
    Setting{"agents", Type::kInt, "100", "simulated agents", 1, 1'000'000},
    Setting{"duration", Type::kDuration, "0s", "run this long (0: until Ctrl-C)"},
    Setting{"connect-rate", Type::kInt, "1000", "new connections per second", 1, 100'000},
    Setting{"per-address", Type::kInt, "25000", "connections per 127.0.0.x source address", 1,
            60'000},
    Setting{"heartbeat-interval", Type::kDuration, "30s", "presence heartbeat period"},
    Setting{"metrics-interval", Type::kDuration, "60s", "metrics sample period"},
    Setting{"jitter", Type::kInt, "20", "period jitter, percent", 0, 90},
    Setting{"offline-chance", Type::kInt, "0",
            "chance per metrics tick of going offline, per mille", 0, 1000},
    Setting{"offline-for", Type::kDuration, "30s", "how long an agent stays offline"},
    Setting{"inventory", Type::kBool, "true", "send an inventory at start"},
    Setting{"seed", Type::kInt, "1", "random seed", 0},
    Setting{"ids-file", Type::kString, "", "write the agent ids here, one per line"},
    Setting{"stats-every", Type::kDuration, "5s", "progress line period (0: none)"},
};

}  // namespace

int main(int argc, char** argv) {
  log::set_component("rmm-sim");
  auto values = config::Values::load(kSettings, argc, argv);
  if (!values) {
    std::fprintf(stderr, "rmm-sim: %s\n", values.error().message.c_str());
    return 2;
  }
  if (values->help_requested()) {
    std::fputs(config::usage("rmm-sim --nats-home DIR [--setting=value ...]",
                             "Simulates a fleet of agents against a nats-server.", kSettings)
                   .c_str(),
               stdout);
    return 0;
  }
  sim::SimOptions o;
  auto urls = nats::split_urls(values->str("nats-url"));
  if (!urls) {
    std::fprintf(stderr, "rmm-sim: --nats-url: %s\n", urls.error().message.c_str());
    return 2;
  }
  o.servers.clear();
  for (std::string url : *urls) {
    if (auto p = url.find("://"); p != std::string::npos) url = url.substr(p + 3);
    auto colon = url.rfind(':');
    sim::SimServer server;
    server.host = colon == std::string::npos ? url : url.substr(0, colon);
    if (colon != std::string::npos) {
      server.port = static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1)));
    }
    o.servers.push_back(std::move(server));
  }
  o.home = values->str("nats-home");
  o.agents = static_cast<int>(values->integer("agents"));
  o.duration = values->duration("duration");
  o.connect_rate = static_cast<int>(values->integer("connect-rate"));
  o.per_address = static_cast<int>(values->integer("per-address"));
  o.stats_every = values->duration("stats-every");
  o.seed = static_cast<std::uint64_t>(values->integer("seed"));
  o.ids_file = values->str("ids-file");
  o.config.heartbeat_interval = values->duration("heartbeat-interval");
  o.config.metrics_interval = values->duration("metrics-interval");
  o.config.jitter = static_cast<double>(values->integer("jitter")) / 100.0;
  o.config.offline_chance = static_cast<double>(values->integer("offline-chance")) / 1000.0;
  o.config.offline_for = values->duration("offline-for");
  o.config.inventory = values->flag("inventory");
  auto report = sim::run_fleet(o);
  if (!report) {
    std::fprintf(stderr, "rmm-sim: %s\n", report.error().message.c_str());
    return 1;
  }
  std::printf("%s\n", sim::report_json(*report).c_str());
  return 0;
}
