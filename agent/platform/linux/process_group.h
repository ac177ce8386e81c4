// The process group record of a command on Linux (see ProcessGroupRecord in process.h), read
// from /proc/<pid>/stat.
#pragma once

#include <cstdint>

#include "agent/platform/process.h"

namespace rmm::agent::linux_proc {

// The group, session and start time of process `pid`; kNotFound when it does not exist.
Result<platform::ProcessGroupRecord> group_record(std::uint32_t pid);

}  // namespace rmm::agent::linux_proc
