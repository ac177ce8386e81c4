// /proc/meminfo, reduced to what a MetricsSample reports.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rmm::agent::linux_proc {

struct MemInfo {
  std::uint64_t total = 0;
  std::uint64_t available = 0;
  // total - available: what `free` reports as used since procps 3.3.10.
  std::uint64_t used = 0;
  // Buffers + Cached + SReclaimable: what `free` reports as buff/cache.
  std::uint64_t cached = 0;
  std::uint64_t swap_total = 0;
  std::uint64_t swap_used = 0;
};

// Bytes. Kernels before 3.14 have no MemAvailable: MemFree + buff/cache stands in for it.
// Returns nullopt without MemTotal.
std::optional<MemInfo> parse_meminfo(std::string_view text);

}  // namespace rmm::agent::linux_proc
