// Processor topology and memory size, shared by the hardware collector and read_host_info.
#pragma once

#include <cstdint>

#include "common/result.h"

namespace rmm::agent::platform {

struct CpuTopology {
  std::uint32_t sockets = 0;
  std::uint32_t cores = 0;
  std::uint32_t threads = 0;  // logical processors, every processor group
};
Result<CpuTopology> cpu_topology();

// Physical memory the OS can use (GlobalMemoryStatusEx), as Linux's MemTotal.
Result<std::uint64_t> physical_memory_bytes();

}  // namespace rmm::agent::platform
