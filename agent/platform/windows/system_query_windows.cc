#include "agent/platform/windows/system_query_windows.h"

#include <fmt/format.h>

#include <cstring>

#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

constexpr NTSTATUS kInfoLengthMismatch = static_cast<NTSTATUS>(0xC0000004L);
constexpr NTSTATUS kBufferTooSmall = static_cast<NTSTATUS>(0xC0000023L);

// SystemTimeOfDayInformation's answer; the SDK declares only reserved bytes.
struct TimeOfDay {
  LARGE_INTEGER boot_time;
  LARGE_INTEGER current_time;
  LARGE_INTEGER time_zone_bias;
  ULONG time_zone_id;
  ULONG reserved;
  ULONGLONG boot_time_bias;
  ULONGLONG sleep_time_bias;
};

}  // namespace

Result<std::vector<std::byte>> query_system_information(int info_class, std::size_t first_bytes,
                                                        std::size_t max_bytes) {
  std::vector<std::byte> buffer(first_bytes);
  for (;;) {
    ULONG needed = 0;
    const NTSTATUS status =
        ::NtQuerySystemInformation(static_cast<SYSTEM_INFORMATION_CLASS>(info_class), buffer.data(),
                                   static_cast<ULONG>(buffer.size()), &needed);
    if (NT_SUCCESS(status)) {
      buffer.resize(std::min<std::size_t>(needed, buffer.size()));
      return buffer;
    }
    if (status != kInfoLengthMismatch && status != kBufferTooSmall) {
      return failf("NtQuerySystemInformation({}) failed: NTSTATUS {:#010x}", info_class,
                   static_cast<std::uint32_t>(status));
    }
    // The answer may grow between two calls (a new process, a new page file): ask for more.
    const std::size_t next = std::max<std::size_t>(needed, buffer.size() * 2);
    if (next > max_bytes) {
      return failf("NtQuerySystemInformation({}) needs more than {} bytes", info_class, max_bytes);
    }
    buffer.assign(next, std::byte{0});
  }
}

Result<MachineCpuTime> machine_cpu_time() {
  FILETIME idle{}, kernel{}, user{};
  if (!::GetSystemTimes(&idle, &kernel, &user)) {
    return std::unexpected(rmm::win::last_error("GetSystemTimes"));
  }
  const std::uint64_t total = filetime_ticks(kernel) + filetime_ticks(user);
  const std::uint64_t idle_ticks = filetime_ticks(idle);
  return MachineCpuTime{total >= idle_ticks ? total - idle_ticks : 0, total};
}

std::uint64_t boot_time_filetime() {
  FILETIME now_ft{};
  ::GetSystemTimeAsFileTime(&now_ft);
  const std::uint64_t now = filetime_ticks(now_ft);
  const std::uint64_t uptime = ::GetTickCount64() * 10'000;
  auto bytes = query_system_information(SystemTimeOfDayInformation, sizeof(TimeOfDay), 4096);
  if (bytes && bytes->size() >= sizeof(LARGE_INTEGER) * 2) {
    TimeOfDay t{};
    std::memcpy(&t, bytes->data(), std::min(bytes->size(), sizeof t));
    const auto boot = static_cast<std::uint64_t>(t.boot_time.QuadPart);
    // Sane: after 2001 and within a minute of what the tick count says.
    const std::uint64_t estimate = now > uptime ? now - uptime : 0;
    const std::uint64_t drift = boot > estimate ? boot - estimate : estimate - boot;
    if (boot > kUnixEpochTicks + 978'307'200ull * 10'000'000 && drift < 60ull * 10'000'000) {
      return boot;
    }
  }
  return now > uptime ? now - uptime : 0;
}

}  // namespace rmm::agent::platform
