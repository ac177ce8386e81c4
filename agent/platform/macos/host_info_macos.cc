#include "agent/platform/host_info.h"

namespace rmm::agent::platform {

// TODO(platform): implement for macos (hostname, OS version, CPU, memory, uptime).
Result<HostInfo> read_host_info() {
  return fail(Error::Code::kNotSupported,
              "host information is not supported on this platform (macos)");
}

// TODO(platform): implement for macos.
Result<std::uint64_t> uptime_seconds() {
  return fail(Error::Code::kNotSupported, "uptime is not supported on this platform (macos)");
}

// TODO(platform): implement for macos (a boot session id).
Result<std::string> boot_id() {
  return fail(Error::Code::kNotSupported, "boot id is not supported on this platform (macos)");
}

}  // namespace rmm::agent::platform
