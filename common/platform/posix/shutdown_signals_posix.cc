#include <pthread.h>
#include <signal.h>

#include <thread>

#include "common/log.h"
#include "common/shutdown.h"

namespace rmm::shutdown {

void install() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    log::info("shutdown.signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    request();
  }).detach();
}

}  // namespace rmm::shutdown
