// Small shared pieces of the Windows collectors: FILETIME arithmetic, the ntdll queries that
// have no documented Win32 equivalent, and the CPU time of the whole machine.
#pragma once

#include <cstdint>
#include <vector>

#include "common/platform/windows/windows_api.h"
#include "common/result.h"

namespace rmm::agent::platform {

// A FILETIME (or any 100 ns counter split in two DWORDs) as one number.
inline std::uint64_t filetime_ticks(const FILETIME& t) {
  return (static_cast<std::uint64_t>(t.dwHighDateTime) << 32) | t.dwLowDateTime;
}

// 100 ns ticks between 1601-01-01 (FILETIME's epoch) and 1970-01-01.
inline constexpr std::uint64_t kUnixEpochTicks = 116'444'736'000'000'000ull;

// NtQuerySystemInformation of `info_class`, with a buffer grown until the answer fits (at most
// `max_bytes`). The ntdll classes used here (processor times, page files) are stable since
// Windows XP and documented in winternl.h or by Microsoft's own tools.
Result<std::vector<std::byte>> query_system_information(int info_class, std::size_t first_bytes,
                                                        std::size_t max_bytes);

// All CPUs together, from GetSystemTimes: `total` is kernel + user time (kernel time includes
// idle time), `busy` is total - idle. 100 ns units summed over every CPU.
struct MachineCpuTime {
  std::uint64_t busy = 0;
  std::uint64_t total = 0;
};
Result<MachineCpuTime> machine_cpu_time();

// When the machine booted, as a FILETIME count (100 ns since 1601). The kernel's own boot time
// (SystemTimeOfDayInformation) when it looks sane, else the wall clock minus the tick count.
std::uint64_t boot_time_filetime();

}  // namespace rmm::agent::platform
