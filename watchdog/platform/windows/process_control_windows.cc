#include "watchdog/platform/process_control.h"

namespace rmm::watchdog {

// TODO(platform): supervise the agent service with a job object and the service control manager.
Result<std::unique_ptr<ProcessControl>> make_process_control() {
  return fail(Error::Code::kNotSupported, "rmm-watchdog is not supported on this platform");
}

}  // namespace rmm::watchdog
