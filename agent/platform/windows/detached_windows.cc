#include "agent/platform/detached.h"

namespace rmm::agent::platform {

// TODO(platform): start rmm-updater as a separate service process.
Status spawn_detached(const std::vector<std::string>&, const std::filesystem::path&) {
  return fail(Error::Code::kNotSupported, "detached helpers are not supported on this platform");
}

Result<std::filesystem::path> current_executable() {
  return fail(Error::Code::kNotSupported, "current_executable is not supported on this platform");
}

}  // namespace rmm::agent::platform
