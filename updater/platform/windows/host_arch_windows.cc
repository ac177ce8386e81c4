#include "common/platform/windows/windows_api.h"
#include "updater/release/manifest.h"

namespace rmm::release {

// The names Linux's uname reports for the same processors, so one release naming serves both.
// Limitations: an x86_64 build emulated on ARM64 Windows is told x86_64 (GetNativeSystemInfo
// answers for the emulated machine); TODO(platform): IsWow64Process2 once ARM64 builds exist.
std::string host_arch() {
  SYSTEM_INFO info{};
  ::GetNativeSystemInfo(&info);
  switch (info.wProcessorArchitecture) {
    case PROCESSOR_ARCHITECTURE_AMD64:
      return "x86_64";
    case PROCESSOR_ARCHITECTURE_ARM64:
      return "aarch64";
    case PROCESSOR_ARCHITECTURE_INTEL:
      return "i686";
    default:
      return "unknown";
  }
}

}  // namespace rmm::release
