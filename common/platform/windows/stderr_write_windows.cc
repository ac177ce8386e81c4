#include "common/platform/stderr_write.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::platform {

// A service has no standard error: the handle is null and the line is dropped (the watchdog
// starts the agent with its output redirected to a log file).
void write_stderr(std::string_view line) {
  HANDLE err = ::GetStdHandle(STD_ERROR_HANDLE);
  if (err == nullptr || err == INVALID_HANDLE_VALUE) return;
  DWORD written = 0;
  ::WriteFile(err, line.data(), static_cast<DWORD>(line.size()), &written, nullptr);
}

}  // namespace rmm::platform
