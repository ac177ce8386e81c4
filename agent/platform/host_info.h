// What the agent reports about its host, behind one neutral interface. Each platform folder
// implements it; CMake compiles exactly one of them.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace rmm::agent::platform {

struct HostInfo {
  std::string hostname;
  std::string os_name;
  std::string os_version;
  std::string kernel;
  std::string arch;
  std::string cpu_model;
  std::uint32_t cpu_count = 0;
  std::uint64_t memory_total_bytes = 0;
};

Result<HostInfo> read_host_info();
Result<std::uint64_t> uptime_seconds();
// An id of the current boot of the machine (Linux: /proc/sys/kernel/random/boot_id): the outbox
// uses it to tell a crash of the agent alone from a power loss.
Result<std::string> boot_id();

}  // namespace rmm::agent::platform
