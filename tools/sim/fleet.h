// A simulated fleet in one process: N SimAgents on one io_context (one thread), identities
// minted in-process with the installation's agent signing key, connections ramped up at a
// bounded rate and spread over 127.0.0.x source addresses (a source address has ~28,000
// ephemeral ports).
//
// Concurrency: run() owns the io_context thread; nothing else touches the agents.
// Limitations: the process needs one file descriptor per agent (RLIMIT_NOFILE is raised to its
// hard limit at start; past it, run several rmm-sim processes).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"
#include "tools/sim/sim_agent.h"

namespace rmm::sim {

struct SimServer {
  std::string host = "127.0.0.1";
  std::uint16_t port = 4222;
};

struct SimOptions {
  std::vector<SimServer> servers{SimServer{}};  // agent i starts on servers[i % size]
  std::filesystem::path home;                   // the installation home (<home>/nats/keys/...)
  int agents = 100;
  std::chrono::milliseconds duration{0};  // 0: until SIGINT/SIGTERM
  int connect_rate = 1000;                // new connections per second
  int per_address = 25'000;               // connections per 127.0.0.x source address
  std::chrono::milliseconds stats_every{5'000};
  std::uint64_t seed = 1;
  std::filesystem::path ids_file;  // when set, the agent ids, one per line
  FleetConfig config;
};

struct SimReport {
  FleetStats stats;
  int agents = 0;
  double mint_seconds = 0;
  double ramp_seconds = 0;  // until every agent was connected once (0 if never)
  double run_seconds = 0;
  double cpu_seconds = 0;  // this process
  std::uint64_t max_rss_kib = 0;
};

Result<SimReport> run_fleet(const SimOptions& options);

// The local address agent `index` connects from: unspecified (the kernel picks) while the whole
// fleet fits on one address; else 127.0.0.1 for the first `per_address` agents, 127.0.0.2 for
// the next, and so on (every 127.0.0.0/8 address is local on Linux, and each has its own
// ~28,000 ephemeral ports towards one server port).
boost::asio::ip::address source_address(std::size_t index, int agents, int per_address);

// The report as one JSON object.
std::string report_json(const SimReport& report);

}  // namespace rmm::sim
