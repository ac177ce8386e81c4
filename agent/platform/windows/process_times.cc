#include "agent/platform/windows/process_times.h"

#include "common/platform/windows/wide_text.h"

namespace rmm::agent::win {

Result<std::uint64_t> process_start_time(HANDLE process) {
  FILETIME created{}, exited{}, kernel{}, user{};
  if (!::GetProcessTimes(process, &created, &exited, &kernel, &user)) {
    return std::unexpected(rmm::win::last_error("GetProcessTimes"));
  }
  return (static_cast<std::uint64_t>(created.dwHighDateTime) << 32) | created.dwLowDateTime;
}

}  // namespace rmm::agent::win
