// /proc/stat and /proc/loadavg parsers, and the CPU busy percentage between two readings.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace rmm::agent::linux_proc {

struct CpuTimes {
  std::uint64_t busy = 0;   // user + nice + system + irq + softirq + steal
  std::uint64_t total = 0;  // busy + idle + iowait (guest time is already inside user/nice)
};

struct ProcStat {
  CpuTimes all;                   // the "cpu" line
  std::vector<CpuTimes> cpus;     // "cpu0", "cpu1", ... in file order (offline CPUs are absent)
  std::uint64_t boot_time_s = 0;  // "btime"
};

// Returns nullopt when the aggregate "cpu" line is missing or malformed.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// Busy share of the interval between two readings in percent, clamped to [0, 100]; 0 when no
// time passed or the counters went backwards (a CPU went offline and came back).
float cpu_busy_percent(const CpuTimes& before, const CpuTimes& after);

struct LoadAverage {
  float load1 = 0, load5 = 0, load15 = 0;
};
std::optional<LoadAverage> parse_loadavg(std::string_view text);

}  // namespace rmm::agent::linux_proc
