// Writing a finished log line to standard error, per platform (common/log.cc).
#pragma once

#include <string_view>

namespace rmm::platform {

// One write per line, so lines from different threads never interleave.
void write_stderr(std::string_view line);

}  // namespace rmm::platform
