#include "agent/platform/linux/meminfo.h"

#include <algorithm>

#include "agent/platform/linux/text_scan.h"

namespace rmm::agent::linux_proc {

std::optional<MemInfo> parse_meminfo(std::string_view text) {
  std::optional<std::uint64_t> total, available;
  std::uint64_t free = 0, buffers = 0, cached = 0, reclaimable = 0, swap_total = 0, swap_free = 0;
  scan::for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto key = line.substr(0, colon);
    auto rest = line.substr(colon + 1);
    auto value = scan::to_number(scan::next_token(rest));
    if (!value) return;
    const std::uint64_t bytes = scan::next_token(rest) == "kB" ? *value * 1024 : *value;
    if (key == "MemTotal")
      total = bytes;
    else if (key == "MemAvailable")
      available = bytes;
    else if (key == "MemFree")
      free = bytes;
    else if (key == "Buffers")
      buffers = bytes;
    else if (key == "Cached")
      cached = bytes;
    else if (key == "SReclaimable")
      reclaimable = bytes;
    else if (key == "SwapTotal")
      swap_total = bytes;
    else if (key == "SwapFree")
      swap_free = bytes;
  });
  if (!total) return std::nullopt;
  MemInfo m;
  m.total = *total;
  m.cached = buffers + cached + reclaimable;
  m.available = std::min(m.total, available.value_or(free + m.cached));
  m.used = m.total - m.available;
  m.swap_total = swap_total;
  m.swap_used = swap_total - std::min(swap_total, swap_free);
  return m;
}

}  // namespace rmm::agent::linux_proc
