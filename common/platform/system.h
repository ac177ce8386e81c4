// Small operating-system services shared code needs, per platform
// (common/platform/{posix,windows}/system_*.cc).
#pragma once

#include <optional>
#include <string>

namespace rmm::platform {

// Sets a variable of this process's environment, where the C library's getenv (and, on Windows,
// GetEnvironmentVariableW) sees it.
void set_env(const char* name, const std::string& value);

// Whether `text` is a loopback IP address (127.0.0.0/8, ::1); nullopt when it is no IP address.
std::optional<bool> ip_is_loopback(const std::string& text);

}  // namespace rmm::platform
