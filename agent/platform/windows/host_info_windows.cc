// What the agent tells about its host at start, and the boot it runs in.
#include <fmt/format.h>

#include "agent/platform/host_info.h"
#include "agent/platform/windows/hardware_windows.h"
#include "agent/platform/windows/os_version_windows.h"
#include "agent/platform/windows/registry_read_windows.h"
#include "agent/platform/windows/sdk_windows.h"
#include "agent/platform/windows/system_query_windows.h"
#include "common/platform/system.h"

namespace rmm::agent::platform {

Result<HostInfo> read_host_info() {
  HostInfo info;
  info.hostname = computer_name(ComputerNameDnsHostname);
  if (info.hostname.empty()) info.hostname = computer_name(ComputerNameNetBIOS);
  auto version = read_windows_version();
  if (!version) return std::unexpected(version.error());
  info.os_name = version->product_name;
  info.os_version = version->display_version;
  info.kernel = version->kernel;
  info.arch = rmm::platform::machine_arch();
  info.cpu_model = processor_model();
  if (auto topology = cpu_topology()) info.cpu_count = topology->threads;
  if (info.cpu_count == 0) info.cpu_count = ::GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  info.memory_total_bytes = physical_memory_bytes().value_or(0);
  return info;
}

Result<std::uint64_t> uptime_seconds() {
  return ::GetTickCount64() / 1000;  // since boot, sleep included, never wraps
}

// The outbox compares this id across agent starts: a different id means the machine rebooted,
// so appends after the last synced write may be lost. A false "different" only skips sequence
// numbers; a false "same" would reuse them, so the id must never repeat across boots.
//
// Windows 8 and later count boots in PrefetchParameters\BootId (incremented at every boot, also
// when the clock is wrong). Where that value is missing (Wine, stripped images) the boot time to
// the second stands in: two boots never start in the same second, and a clock step between two
// agent starts in one boot only makes the ids differ, the harmless direction.
Result<std::string> boot_id() {
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE,
                               L"SYSTEM\\CurrentControlSet\\Control\\Session Manager\\Memory "
                               L"Management\\PrefetchParameters",
                               KEY_WOW64_64KEY);
  if (key) {
    if (auto n = key->number(L"BootId")) return fmt::format("bootid-{}", *n);
  }
  const std::uint64_t boot = boot_time_filetime();
  if (boot <= kUnixEpochTicks) return fail("cannot tell the boot time");
  return fmt::format("boottime-{}", (boot - kUnixEpochTicks) / 10'000'000);
}

}  // namespace rmm::agent::platform
