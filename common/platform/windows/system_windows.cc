#include <ws2tcpip.h>

#include <cstdlib>

#include "common/platform/system.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
// After windows.h, which it needs.
#include <psapi.h>

namespace rmm::platform {

// Both environments: the C runtime's (getenv) and the process's (OpenSSL 3 reads variables with
// GetEnvironmentVariableW on Windows).
void set_env(const char* name, const std::string& value) {
  ::_putenv_s(name, value.c_str());
  auto wname = win::to_wide(name);
  auto wvalue = win::to_wide(value);
  if (wname && wvalue) ::SetEnvironmentVariableW(wname->c_str(), wvalue->c_str());
}

std::optional<bool> ip_is_loopback(const std::string& text) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  return std::nullopt;
}

// Limitations: an x86_64 build emulated on ARM64 Windows is told x86_64 (GetNativeSystemInfo
// answers for the emulated machine); TODO(platform): IsWow64Process2 once ARM64 builds exist.
std::string machine_arch() {
  SYSTEM_INFO info{};
  ::GetNativeSystemInfo(&info);
  switch (info.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64:
      return "x86_64";
    case PROCESSOR_ARCHITECTURE_ARM64:
      return "aarch64";
    case PROCESSOR_ARCHITECTURE_INTEL:
      return "i686";
    case PROCESSOR_ARCHITECTURE_ARM:
      return "armv7l";
    default:
      return "unknown";
  }
}

std::optional<std::uint64_t> resident_bytes() {
  PROCESS_MEMORY_COUNTERS mem{};
  if (!::GetProcessMemoryInfo(::GetCurrentProcess(), &mem, sizeof mem)) return std::nullopt;
  return mem.WorkingSetSize;
}

}  // namespace rmm::platform
