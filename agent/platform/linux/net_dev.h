// /proc/net/dev: cumulative counters per network interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmm::agent::linux_proc {

struct NetDevStats {
  std::string name;
  std::uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_drops = 0;
  std::uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_drops = 0;
};

// Every interface of the calling process's network namespace, header lines skipped.
std::vector<NetDevStats> parse_net_dev(std::string_view text);

}  // namespace rmm::agent::linux_proc
