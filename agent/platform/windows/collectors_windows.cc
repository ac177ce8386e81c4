// What the Windows collectors share with no other file: the platform tag, and the collector
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

}  // namespace rmm::agent::platform
