#include "common/shutdown.h"

#include <signal.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace rmm::shutdown {
namespace {

std::mutex g_mutex;
std::condition_variable g_cv;
bool g_requested = false;

}  // namespace

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

void request() {
  std::lock_guard lock(g_mutex);
  g_requested = true;
  g_cv.notify_all();
}

bool requested() {
  std::lock_guard lock(g_mutex);
  return g_requested;
}

bool wait_for(std::chrono::milliseconds d) {
  std::unique_lock lock(g_mutex);
  return g_cv.wait_for(lock, d, [] { return g_requested; });
}

}  // namespace rmm::shutdown
