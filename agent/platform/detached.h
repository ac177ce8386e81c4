// Starting a helper process that outlives the agent (rmm-updater stops the agent that started
// it): its own session, no inherited descriptors but a log file, reparented to init (Windows: no
// console, its own process group, out of the agent's job where the job allows it).
// Implemented per platform (CMake picks the file).
//
// Limitations: macOS returns kNotSupported (TODO(platform): launchd).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.h"

namespace rmm::agent::platform {

// argv[0] is an absolute path. Returns once the helper has been started (not finished).
Status spawn_detached(const std::vector<std::string>& argv, const std::filesystem::path& log_file);

// The absolute path of the running executable.
Result<std::filesystem::path> current_executable();

}  // namespace rmm::agent::platform
