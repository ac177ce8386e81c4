// The agent's state directory holds its identity and NATS credential: only the machine's
// administrators may read it. POSIX: mode 0700 (the agent runs as root or its own user). Windows:
// a DACL of exactly SYSTEM and Administrators with full control, protected from the parent's
// inheritable entries and inherited by everything created inside (common/platform/*/).
#pragma once

#include <filesystem>

#include "common/result.h"

namespace rmm::files {

// Creates `dir` (and its parents) when missing and restricts it as above; also re-applies the
// restriction to an existing directory, and on Windows to what is already inside it.
Status secure_state_dir(const std::filesystem::path& dir);

}  // namespace rmm::files
