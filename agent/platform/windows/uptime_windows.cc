// Time since boot.
#include "agent/platform/collectors.h"
#include "agent/platform/windows/sdk_windows.h"

namespace rmm::agent::platform {

// GetTickCount64 counts milliseconds since boot, sleep and hibernation included (as Linux's
// /proc/uptime does), and never wraps. host_info_windows.cc reads the same clock.
Status collect_uptime(SamplerState&, codec::MetricsInfo& out) {
  out.uptime_s = ::GetTickCount64() / 1000;
  return {};
}

}  // namespace rmm::agent::platform
