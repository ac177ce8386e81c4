#include "common/shutdown.h"

#include <condition_variable>
#include <mutex>

namespace rmm::shutdown {
namespace {

std::mutex g_mutex;
std::condition_variable g_cv;
bool g_requested = false;

}  // namespace

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
