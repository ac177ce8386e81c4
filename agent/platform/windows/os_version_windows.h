// Facts about this Windows installation and machine that both the inventory collectors and
// read_host_info report. Every string is UTF-8, clipped (clip_text).
#pragma once

#include <cstdint>
#include <string>

#include "common/platform/windows/windows_api.h"
#include "common/result.h"

namespace rmm::agent::platform {

struct WindowsVersion {
  std::string product_name;     // "Windows 11 Pro", "Windows Server 2022 Datacenter"
  std::string display_version;  // "23H2"; older releases: "1809"; empty before Windows 10
  std::string pretty;           // "Windows 11 Pro 23H2 (build 22631.2861)"
  std::string kernel;           // "10.0.22631.2861": major.minor.build.revision
};
// RtlGetVersion (which, unlike GetVersionEx, is not capped by the program's manifest) and the
// CurrentVersion registry key.
Result<WindowsVersion> read_windows_version();

// GetComputerNameExW in the given format; empty when Windows has none (no DNS domain).
std::string computer_name(COMPUTER_NAME_FORMAT format);

// ProcessorNameString of the first processor, from the registry.
std::string processor_model();

}  // namespace rmm::agent::platform
