// Small operating-system services shared code needs, per platform
// (common/platform/{posix,windows}/system_*.cc).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rmm::platform {

// Sets a variable of this process's environment, where the C library's getenv (and, on Windows,
// GetEnvironmentVariableW) sees it.
void set_env(const char* name, const std::string& value);

// Whether `text` is a loopback IP address (127.0.0.0/8, ::1); nullopt when it is no IP address.
std::optional<bool> ip_is_loopback(const std::string& text);

// The machine's processor architecture as Linux's uname names it ("x86_64", "aarch64", "i686"),
// on every platform, so agent inventory and release names agree; "unknown" when it cannot be
// told.
std::string machine_arch();

// This process's resident memory in bytes (Linux: VmRSS; Windows: the working set); nullopt
// where the platform does not say (macOS: TODO(platform), task_info).
std::optional<std::uint64_t> resident_bytes();

}  // namespace rmm::platform
