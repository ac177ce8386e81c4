// What the Windows collectors share with no other file: the platform tag, and the collectors
// Windows has no source for. Each collector lives in a file named for its concern
// (cpu_windows.cc, memory_windows.cc, ...).
#include "agent/platform/collectors.h"

namespace rmm::agent::platform {

Os current_os() {
  return Os::kWindows;
}

// Windows keeps no load average (its processor queue length is a different measure). The
// registry declares "load" Linux-only, so this is reached only when called directly.
Status collect_load(SamplerState&, codec::MetricsInfo&) {
  return fail(Error::Code::kNotSupported, "Windows has no load average");
}

// TODO(platform): Windows exposes temperatures only through WMI (root\WMI
// MSAcpi_ThermalZoneTemperature, and only where the firmware implements ACPI thermal zones).
// Until the agent speaks WMI this says so instead of reporting no sensors.
Status collect_temperatures(SamplerState&, codec::MetricsInfo&) {
  return fail(Error::Code::kNotSupported, "temperatures need WMI (TODO(platform))");
}

}  // namespace rmm::agent::platform
