#include "common/files.h"
#include "common/secure_dir.h"

namespace rmm::files {

Status secure_state_dir(const std::filesystem::path& dir) {
  return ensure_dir(dir, 0700);
}

}  // namespace rmm::files
