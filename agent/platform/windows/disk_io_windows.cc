// Cumulative I/O counters of every physical disk.
#include <fmt/format.h>

#include <memory>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "agent/platform/windows/system_query_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

// Disk numbers may have gaps (a removed disk); this many misses in a row end the scan.
constexpr int kMaxMissingDisks = 4;

struct HandleCloser {
  void operator()(HANDLE h) const { ::CloseHandle(h); }
};

}  // namespace

// Limitations: IOCTL_DISK_PERFORMANCE counts since the disk's performance counters started
// (normally at boot); io_time_ms is derived from its idle time, see below.
Status collect_disk_io(SamplerState&, codec::MetricsInfo& out) {
  std::vector<codec::DiskIoInfo> list;
  std::string first_error;
  int missing = 0;
  for (int n = 0; n < static_cast<int>(kMaxDisks) && missing < kMaxMissingDisks; ++n) {
    const std::wstring path = L"\\\\.\\PhysicalDrive" + std::to_wstring(n);
    // No access rights are needed for IOCTL_DISK_PERFORMANCE (FILE_ANY_ACCESS), so this works
    // without administrator rights and never touches the disk's data.
    HANDLE raw = ::CreateFileW(path.c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                               OPEN_EXISTING, 0, nullptr);
    if (raw == INVALID_HANDLE_VALUE) {
      const DWORD code = ::GetLastError();
      if (code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND) {
        ++missing;
      } else if (first_error.empty()) {
        first_error = rmm::win::win32_error(rmm::win::to_utf8(path), code).message;
      }
      continue;
    }
    missing = 0;
    std::unique_ptr<void, HandleCloser> disk(raw);
    DISK_PERFORMANCE perf{};
    DWORD returned = 0;
    if (!::DeviceIoControl(disk.get(), IOCTL_DISK_PERFORMANCE, nullptr, 0, &perf, sizeof perf,
                           &returned, nullptr)) {
      if (first_error.empty()) {
        first_error =
            rmm::win::last_error("IOCTL_DISK_PERFORMANCE on " + rmm::win::to_utf8(path)).message;
      }
      continue;
    }
    // Busy time is what the disk was not idle: the time since boot minus IdleTime. Where the
    // counters started after boot the absolute value is too high, but its difference between two
    // samples, which is what rates use, is still the busy time in between. Read and write counts
    // are 32-bit and wrap, which the schema allows (a decrease is a reboot or a wrap).
    const std::uint64_t since_boot =
        static_cast<std::uint64_t>(perf.QueryTime.QuadPart) - boot_time_filetime();
    const auto idle = static_cast<std::uint64_t>(perf.IdleTime.QuadPart);
    codec::DiskIoInfo d;
    d.name = fmt::format("PhysicalDrive{}", n);
    d.reads = perf.ReadCount;
    d.writes = perf.WriteCount;
    d.read_bytes = static_cast<std::uint64_t>(perf.BytesRead.QuadPart);
    d.write_bytes = static_cast<std::uint64_t>(perf.BytesWritten.QuadPart);
    d.io_time_ms =
        since_boot > idle && since_boot < (1ull << 62) ? (since_boot - idle) / 10'000 : 0;
    list.push_back(std::move(d));
  }
  out.disks = std::move(list);
  if (!first_error.empty()) return fail(first_error);
  if (out.disks->empty()) {
    return fail(Error::Code::kNotFound, "no \\\\.\\PhysicalDrive0 on this machine");
  }
  return {};
}

}  // namespace rmm::agent::platform
