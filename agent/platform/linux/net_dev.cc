#include "agent/platform/linux/net_dev.h"

#include <array>

#include "agent/platform/linux/text_scan.h"

namespace rmm::agent::linux_proc {

std::vector<NetDevStats> parse_net_dev(std::string_view text) {
  std::vector<NetDevStats> out;
  scan::for_each_line(text, [&](std::string_view line) {
    // "  eth0: 123 ..." (old kernels glue the first number to the colon: "eth0:123").
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto name = scan::trim(line.substr(0, colon));
    if (name.empty() || name.find('|') != std::string_view::npos) return;
    auto rest = line.substr(colon + 1);
    // rx: bytes packets errs drop fifo frame compressed multicast; tx: bytes packets errs drop
    std::array<std::uint64_t, 12> v{};
    for (auto& x : v) {
      auto n = scan::to_number(scan::next_token(rest));
      if (!n) return;
      x = *n;
    }
    out.push_back({std::string(name), v[0], v[1], v[2], v[3], v[8], v[9], v[10], v[11]});
  });
  return out;
}

}  // namespace rmm::agent::linux_proc
