// /proc/diskstats: cumulative I/O counters per block device since boot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace rmm::agent::linux_proc {

struct DiskStats {
  std::string name;
  std::uint64_t reads = 0;       // completed read requests
  std::uint64_t writes = 0;      // completed write requests
  std::uint64_t read_bytes = 0;  // sectors read * 512 (diskstats sectors are always 512 bytes)
  std::uint64_t write_bytes = 0;
  std::uint64_t io_time_ms = 0;  // time the device had I/O in flight
};

// Malformed lines (fewer than the 14 columns every kernel since 2.6 prints) are skipped.
std::vector<DiskStats> parse_diskstats(std::string_view text);

// The devices a MetricsSample reports: whole disks only when `whole_disks` (the names under
// /sys/block) is non-empty, so partitions are not counted twice; never loop or ram devices; never
// a device that has done no I/O since boot; at most `limit`.
std::vector<DiskStats> select_disks(const std::vector<DiskStats>& disks,
                                    const std::unordered_set<std::string>& whole_disks,
                                    std::size_t limit);

}  // namespace rmm::agent::linux_proc
