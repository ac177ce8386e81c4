#include <unistd.h>

#include "common/platform/stderr_write.h"

namespace rmm::platform {

void write_stderr(std::string_view line) {
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace rmm::platform
