#include <signal.h>
#include <unistd.h>

#include <thread>

#include "common/agent_local.h"
#include "common/log.h"
#include "updater/agent_control.h"

namespace rmm::updater {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// Through rmm-watchdog and the update lock (see agent_control.h).
class WatchdogControl final : public AgentControl {
 public:
  explicit WatchdogControl(fs::path state_dir) : state_dir_(std::move(state_dir)) {}

  Status acquire() override {
    if (!local::live_pid(local::watchdog_pid_path(state_dir_))) {
      return fail("no rmm-watchdog supervises this agent: nobody would start it again");
    }
    if (auto held = local::read_update_lock(state_dir_); held && held->pid != ::getpid()) {
      return failf("another update (pid {}) is in progress", held->pid);
    }
    return set_phase(local::UpdatePhase::kStart);  // held, agent still running
  }

  Status stop(std::chrono::milliseconds grace) override {
    if (auto st = set_phase(local::UpdatePhase::kStop); !st) return st;
    auto health = local::read_health(state_dir_);
    if (!health || !local::process_alive(health->pid)) return {};  // already stopped
    // The watchdog sees the lock and stops its child too; signalling it here as well makes the
    // stop independent of the watchdog's poll interval.
    ::kill(health->pid, SIGTERM);
    if (wait_gone(health->pid, grace)) return {};
    log::warn("update.agent_kill", {{"pid", health->pid}});
    ::kill(health->pid, SIGKILL);
    if (!wait_gone(health->pid, 5s)) return failf("agent pid {} does not stop", health->pid);
    return {};
  }

  Status start() override {
    std::error_code ec;
    fs::remove(local::crash_loop_path(state_dir_), ec);
    fs::remove(local::health_path(state_dir_), ec);  // only the new agent's word counts now
    return set_phase(local::UpdatePhase::kStart);
  }

  bool crash_looping() const override {
    std::error_code ec;
    return fs::exists(local::crash_loop_path(state_dir_), ec);
  }

  void release() override { local::remove_update_lock(state_dir_); }

 private:
  Status set_phase(local::UpdatePhase phase) {
    return local::write_update_lock(state_dir_, {::getpid(), phase});
  }

  static bool wait_gone(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (local::process_alive(pid)) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  fs::path state_dir_;
};

}  // namespace

std::unique_ptr<AgentControl> make_agent_control(const fs::path& state_dir) {
  return std::make_unique<WatchdogControl>(state_dir);
}

}  // namespace rmm::updater
