#include "agent/platform/host_info.h"

namespace rmm::agent::platform {

// TODO(platform): implement for windows (hostname, OS version, CPU, memory, uptime).
Result<HostInfo> read_host_info() {
  return fail(Error::Code::kNotSupported,
              "host information is not supported on this platform (windows)");
}

// TODO(platform): implement for windows.
Result<std::uint64_t> uptime_seconds() {
  return fail(Error::Code::kNotSupported, "uptime is not supported on this platform (windows)");
}

// TODO(platform): implement for windows (a boot session id).
Result<std::string> boot_id() {
  return fail(Error::Code::kNotSupported, "boot id is not supported on this platform (windows)");
}

}  // namespace rmm::agent::platform
