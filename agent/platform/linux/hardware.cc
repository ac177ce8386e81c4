#include "agent/platform/linux/hardware.h"

#include <set>
#include <utility>

#include "agent/platform/linux/text_scan.h"

namespace rmm::agent::linux_proc {

CpuTopology parse_cpu_topology(std::string_view cpuinfo) {
  CpuTopology t;
  std::set<std::uint32_t> sockets;
  std::set<std::pair<std::uint32_t, std::uint32_t>> cores;
  std::uint32_t socket = 0;
  bool have_socket = false;
  scan::for_each_line(cpuinfo, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto key = scan::trim(line.substr(0, colon));
    auto value = scan::trim(line.substr(colon + 1));
    if (key == "processor") {
      ++t.threads;
      have_socket = false;
    } else if (key == "physical id") {
      if (auto n = scan::to_number<std::uint32_t>(value)) {
        socket = *n;
        have_socket = true;
        sockets.insert(*n);
      }
    } else if (key == "core id" && have_socket) {
      if (auto n = scan::to_number<std::uint32_t>(value)) cores.insert({socket, *n});
    }
  });
  t.sockets =
      sockets.empty() ? (t.threads > 0 ? 1 : 0) : static_cast<std::uint32_t>(sockets.size());
  t.cores = cores.empty() ? t.threads : static_cast<std::uint32_t>(cores.size());
  return t;
}

bool is_valid_machine_id(std::string_view text) {
  text = scan::trim(text);
  if (text.size() != 32) return false;
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace rmm::agent::linux_proc
