#include "watchdog/platform/process_control.h"

namespace rmm::watchdog {

// TODO(platform): supervise the agent through launchd (KeepAlive) and proc_pidinfo.
Result<std::unique_ptr<ProcessControl>> make_process_control() {
  return fail(Error::Code::kNotSupported, "rmm-watchdog is not supported on this platform");
}

}  // namespace rmm::watchdog
