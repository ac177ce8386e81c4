// rmm-test-stop-helper: a child for the Windows watchdog and service tests.
//   (no arguments)   listens for its stop event, exits with kStoppedExitCode when it is set
//   --ignore-stop    never exits on its own (the forced-kill tests)
//   --service NAME   the first form through rmm::service::run as the service NAME
// Always gives up after two minutes, so a broken test leaves no process behind for long.
#include <chrono>
#include <string_view>
#include <thread>

#include "common/platform/windows/stop_event.h"
#include "common/service_host.h"
#include "common/shutdown.h"

namespace {

constexpr int kStoppedExitCode = 7;
constexpr int kGaveUpExitCode = 9;

int helper_main(int argc, char** argv) {
  const bool ignore_stop = argc > 1 && std::string_view(argv[1]) == "--ignore-stop";
  if (!ignore_stop && !rmm::win::listen_for_stop_requests()) return 2;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    if (ignore_stop) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } else if (rmm::shutdown::wait_for(std::chrono::milliseconds(50))) {
      return kStoppedExitCode;
    }
  }
  return kGaveUpExitCode;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string_view(argv[1]) == "--service") {
    return rmm::service::run(argv[2], helper_main, argc, argv);
  }
  return helper_main(argc, argv);
}
