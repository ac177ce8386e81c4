#include "agent/platform/linux/diskstats.h"

#include <array>

#include "agent/platform/linux/text_scan.h"

namespace rmm::agent::linux_proc {

std::vector<DiskStats> parse_diskstats(std::string_view text) {
  std::vector<DiskStats> out;
  scan::for_each_line(text, [&](std::string_view line) {
    scan::next_token(line);  // major
    scan::next_token(line);  // minor
    auto name = scan::next_token(line);
    // reads, reads merged, sectors read, ms reading, writes, writes merged, sectors written,
    // ms writing, in flight, ms doing I/O, weighted ms doing I/O
    std::array<std::uint64_t, 11> v{};
    for (auto& x : v) {
      auto n = scan::to_number(scan::next_token(line));
      if (!n) return;
      x = *n;
    }
    if (name.empty()) return;
    out.push_back({std::string(name), v[0], v[4], v[2] * 512, v[6] * 512, v[9]});
  });
  return out;
}

std::vector<DiskStats> select_disks(const std::vector<DiskStats>& disks,
                                    const std::unordered_set<std::string>& whole_disks,
                                    std::size_t limit) {
  std::vector<DiskStats> out;
  for (const auto& d : disks) {
    if (out.size() >= limit) break;
    if (d.name.starts_with("loop") || d.name.starts_with("ram")) continue;
    if (!whole_disks.empty() && !whole_disks.contains(d.name)) continue;
    if (d.reads == 0 && d.writes == 0) continue;
    out.push_back(d);
  }
  return out;
}

}  // namespace rmm::agent::linux_proc
