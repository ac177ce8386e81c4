// Bounded reads of small system files (/proc, /sys, /etc). Unlike files::read_all, the size is
// capped, so a hostile or odd file (a 2 MB command line, a sysfs file that never ends) cannot make
// the agent allocate without limit, and one open/read/close per file keeps scanning /proc cheap.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "common/result.h"

namespace rmm::agent::posix {

// At most `max_bytes` of the file (the rest is ignored). Error code kNotFound when the file does
// not exist or the process it described has exited (ENOENT, ESRCH).
Result<std::string> read_file(const std::filesystem::path& path, std::size_t max_bytes = 1 << 20);

}  // namespace rmm::agent::posix
