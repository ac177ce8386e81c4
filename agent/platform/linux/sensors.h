// Temperatures from sysfs: thermal zones (/sys/class/thermal/thermal_zone*/{type,temp}) and hwmon
// chips (/sys/class/hwmon/hwmon*/{name,tempN_input,tempN_label}).
//
// Limitations: a sensor exposed both as a thermal zone and as a hwmon chip (ACPI's "acpitz") is
// reported twice, once under each chip name; hwmon chips of pre-3.x kernels that keep their files
// under hwmonN/device/ are not read.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "common/event_codec.h"

namespace rmm::agent::linux_proc {

// A sysfs temperature ("45000": millidegrees Celsius) in degrees; nullopt when it is not a number
// or outside what any sensor can mean (-100..250 °C: disconnected probes read -273 or 255000).
std::optional<float> parse_millidegrees(std::string_view text);

// Every readable sensor under `sys_root` (normally "/sys"), thermal zones first, then hwmon chips,
// each in numeric order; at most `limit`. An absent class directory means no sensors, not an
// error: the result is an empty list.
std::vector<codec::TemperatureInfo> read_temperatures(const std::filesystem::path& sys_root,
                                                      std::size_t limit);

}  // namespace rmm::agent::linux_proc
