#include <signal.h>
#include <unistd.h>

#include "updater/platform/agent_process.h"

namespace rmm::updater::platform {

pid_t own_pid() {
  return ::getpid();
}

void request_stop(pid_t pid) {
  ::kill(pid, SIGTERM);
}

void force_stop(pid_t pid) {
  ::kill(pid, SIGKILL);
}

}  // namespace rmm::updater::platform
