// When a Windows process started, as a number that tells two processes with the same pid apart:
// the creation time from GetProcessTimes (100 ns units since 1601, UTC).
#pragma once

#include <cstdint>

#include "common/platform/windows/windows_api.h"
#include "common/result.h"

namespace rmm::agent::win {

Result<std::uint64_t> process_start_time(HANDLE process);

}  // namespace rmm::agent::win
