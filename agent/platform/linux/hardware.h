// CPU topology from /proc/cpuinfo and identity checks for inventory.
#pragma once

#include <cstdint>
#include <string_view>

namespace rmm::agent::linux_proc {

struct CpuTopology {
  std::uint32_t sockets = 0;  // distinct "physical id"
  std::uint32_t cores = 0;    // distinct (physical id, core id)
  std::uint32_t threads = 0;  // "processor" entries
};

// Architectures whose cpuinfo has no "physical id"/"core id" (ARM, many VMs' guests) count one
// socket and one core per thread.
CpuTopology parse_cpu_topology(std::string_view cpuinfo);

// /etc/machine-id holds 32 lowercase hex digits and a newline; anything else is not an id.
bool is_valid_machine_id(std::string_view text);

}  // namespace rmm::agent::linux_proc
