// Per-process parsers (/proc/<pid>/stat, status, cmdline) and the pure arithmetic of a process
// sample: CPU % between two scans and the choice of the top processes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rmm::agent::linux_proc {

struct PidStat {
  std::uint32_t pid = 0;
  std::string comm;  // between the first '(' and the LAST ')': names may hold both
  char state = '?';
  std::uint32_t pgrp = 0;         // process group
  std::uint32_t session = 0;      // session id
  std::uint64_t cpu_ticks = 0;    // utime + stime, in clock ticks
  std::uint64_t start_ticks = 0;  // start time after boot, in clock ticks
  std::uint64_t rss_pages = 0;
};
std::optional<PidStat> parse_proc_pid_stat(std::string_view text);

struct PidStatus {
  std::string name;
  std::optional<std::uint32_t> uid;        // real uid
  std::optional<std::uint64_t> rss_bytes;  // VmRSS; absent for kernel threads
};
PidStatus parse_proc_pid_status(std::string_view text);

// NUL-separated arguments joined by spaces, cut to `max_bytes` as valid UTF-8.
std::string format_cmdline(std::string_view raw, std::size_t max_bytes);

// One process of a scan.
struct ProcessSample {
  std::uint32_t pid = 0;
  std::string comm;
  std::uint64_t cpu_ticks = 0;
  std::uint64_t start_ticks = 0;
  std::uint64_t rss_bytes = 0;
  float cpu_percent = 0;  // filled by compute_cpu_percent
};

struct PreviousTicks {
  std::uint64_t start_ticks = 0;
  std::uint64_t cpu_ticks = 0;
};

// Sets each sample's cpu_percent: its ticks since `previous` as a share of `elapsed_total_ticks`
// (all CPUs' ticks over the same interval, from /proc/stat), so 100 means the whole machine.
// A process absent from a non-empty `previous`, or whose pid was reused (other start time),
// started inside the interval: all its ticks count. With an empty `previous` (the first scan)
// every process reads 0.
void compute_cpu_percent(std::vector<ProcessSample>& samples,
                         const std::unordered_map<std::uint32_t, PreviousTicks>& previous,
                         std::uint64_t elapsed_total_ticks);

// Indexes into `samples` of the top `n` by CPU and the top `n` by RSS, deduplicated, CPU ranking
// first; ties broken by lower pid so the choice is stable.
std::vector<std::size_t> select_top_processes(const std::vector<ProcessSample>& samples,
                                              std::size_t n);

}  // namespace rmm::agent::linux_proc
