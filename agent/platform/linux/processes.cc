#include "agent/platform/linux/processes.h"

#include <algorithm>
#include <array>

#include "agent/platform/linux/text_scan.h"
#include "agent/platform/text_limits.h"

namespace rmm::agent::linux_proc {

std::optional<PidStat> parse_proc_pid_stat(std::string_view text) {
  // "pid (comm) state ppid ...": comm is up to 15 bytes of anything, parentheses included.
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  PidStat s;
  auto pid = scan::to_number<std::uint32_t>(scan::trim(text.substr(0, open)));
  if (!pid) return std::nullopt;
  s.pid = *pid;
  s.comm = platform::clip_text(text.substr(open + 1, close - open - 1));
  auto rest = text.substr(close + 1);
  auto state = scan::next_token(rest);
  if (state.size() != 1) return std::nullopt;
  s.state = state[0];
  // Fields 4..24 of proc(5); we need pgrp (5), session (6), utime (14), stime (15), starttime
  // (22), rss (24).
  std::array<std::string_view, 21> f{};
  for (auto& x : f) {
    x = scan::next_token(rest);
    if (x.empty()) return std::nullopt;
  }
  auto pgrp = scan::to_number<std::uint32_t>(f[5 - 4]);
  auto session = scan::to_number<std::uint32_t>(f[6 - 4]);
  auto utime = scan::to_number(f[14 - 4]);
  auto stime = scan::to_number(f[15 - 4]);
  auto start = scan::to_number(f[22 - 4]);
  auto rss = scan::to_number<std::int64_t>(f[24 - 4]);
  if (!pgrp || !session || !utime || !stime || !start || !rss) return std::nullopt;
  s.pgrp = *pgrp;
  s.session = *session;
  s.cpu_ticks = *utime + *stime;
  s.start_ticks = *start;
  s.rss_pages = *rss > 0 ? static_cast<std::uint64_t>(*rss) : 0;
  return s;
}

PidStatus parse_proc_pid_status(std::string_view text) {
  PidStatus s;
  scan::for_each_line(text, [&](std::string_view line) {
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return;
    auto key = line.substr(0, colon);
    auto rest = line.substr(colon + 1);
    if (key == "Name") {
      s.name = platform::clip_text(scan::trim(rest));
    } else if (key == "Uid") {
      s.uid = scan::to_number<std::uint32_t>(scan::next_token(rest));
    } else if (key == "VmRSS") {
      auto kb = scan::to_number(scan::next_token(rest));
      if (kb) s.rss_bytes = *kb * 1024;
    }
  });
  return s;
}

std::string format_cmdline(std::string_view raw, std::size_t max_bytes) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string joined(raw.substr(0, max_bytes + 4));  // a little past the cut, for a whole char
  std::replace(joined.begin(), joined.end(), '\0', ' ');
  return platform::clip_text(joined, max_bytes);
}

void compute_cpu_percent(std::vector<ProcessSample>& samples,
                         const std::unordered_map<std::uint32_t, PreviousTicks>& previous,
                         std::uint64_t elapsed_total_ticks) {
  for (auto& s : samples) {
    s.cpu_percent = 0;
    if (previous.empty() || elapsed_total_ticks == 0) continue;
    std::uint64_t used = s.cpu_ticks;
    auto it = previous.find(s.pid);
    if (it != previous.end() && it->second.start_ticks == s.start_ticks) {
      used = s.cpu_ticks >= it->second.cpu_ticks ? s.cpu_ticks - it->second.cpu_ticks : 0;
    }
    const double pct = 100.0 * static_cast<double>(used) / static_cast<double>(elapsed_total_ticks);
    s.cpu_percent = static_cast<float>(std::min(pct, 100.0));
  }
}

std::vector<std::size_t> select_top_processes(const std::vector<ProcessSample>& samples,
                                              std::size_t n) {
  std::vector<std::size_t> by_cpu(samples.size());
  for (std::size_t i = 0; i < by_cpu.size(); ++i) by_cpu[i] = i;
  auto by_mem = by_cpu;
  const std::size_t k = std::min(n, samples.size());
  std::partial_sort(by_cpu.begin(), by_cpu.begin() + k, by_cpu.end(), [&](auto a, auto b) {
    if (samples[a].cpu_percent != samples[b].cpu_percent) {
      return samples[a].cpu_percent > samples[b].cpu_percent;
    }
    return samples[a].pid < samples[b].pid;
  });
  std::partial_sort(by_mem.begin(), by_mem.begin() + k, by_mem.end(), [&](auto a, auto b) {
    if (samples[a].rss_bytes != samples[b].rss_bytes) {
      return samples[a].rss_bytes > samples[b].rss_bytes;
    }
    return samples[a].pid < samples[b].pid;
  });
  std::vector<std::size_t> out(by_cpu.begin(), by_cpu.begin() + k);
  for (std::size_t i = 0; i < k; ++i) {
    if (std::find(out.begin(), out.end(), by_mem[i]) == out.end()) out.push_back(by_mem[i]);
  }
  return out;
}

}  // namespace rmm::agent::linux_proc
