// Starting a helper process that outlives the agent (rmm-updater stops the agent that started
// it): its own session, no inherited descriptors but a log file, reparented to init.
// Implemented per platform (CMake picks the file).
//
// Limitations: Windows and macOS return kNotSupported (TODO(platform): a Windows service helper,
// launchd).
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
