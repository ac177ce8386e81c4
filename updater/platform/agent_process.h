// Signalling the agent's process, per platform: the updater's half of stopping it
// (updater/watchdog_control.h).
#pragma once

#include <sys/types.h>

namespace rmm::updater::platform {

pid_t own_pid();
// Asks the process to stop (POSIX: SIGTERM; Windows: its stop event,
// common/platform/windows/stop_event.h).
void request_stop(pid_t pid);
// Ends it at once (POSIX: SIGKILL; Windows: TerminateProcess).
void force_stop(pid_t pid);

}  // namespace rmm::updater::platform
