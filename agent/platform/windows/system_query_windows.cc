#include "agent/platform/windows/system_query_windows.h"

#include <fmt/format.h>

#include "agent/platform/windows/sdk_windows.h"

#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

constexpr NTSTATUS kInfoLengthMismatch = static_cast<NTSTATUS>(0xC0000004L);
constexpr NTSTATUS kBufferTooSmall = static_cast<NTSTATUS>(0xC0000023L);

}  // namespace

Result<std::vector<std::byte>> query_system_information(int info_class, std::size_t first_bytes,
                                                        std::size_t max_bytes) {
  std::vector<std::byte> buffer(first_bytes);
  for (;;) {
    ULONG needed = 0;
    const NTSTATUS status = ::NtQuerySystemInformation(
        static_cast<SYSTEM_INFORMATION_CLASS>(info_class), buffer.data(),
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
  if (!::GetSystemTimes(&idle, &kernel, &user)) return std::unexpected(rmm::win::last_error("GetSystemTimes"));
  const std::uint64_t total = filetime_ticks(kernel) + filetime_ticks(user);
  const std::uint64_t idle_ticks = filetime_ticks(idle);
  return MachineCpuTime{total >= idle_ticks ? total - idle_ticks : 0, total};
}

}  // namespace rmm::agent::platform
