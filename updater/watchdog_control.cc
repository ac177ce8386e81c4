#include "updater/watchdog_control.h"

#include <thread>

#include "common/agent_local.h"
#include "common/log.h"
#include "updater/platform/agent_process.h"

namespace rmm::updater {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class WatchdogControl final : public AgentControl {
 public:
  explicit WatchdogControl(fs::path state_dir) : state_dir_(std::move(state_dir)) {}

  Status acquire() override {
    if (!local::live_pid(local::watchdog_pid_path(state_dir_))) {
      return fail("no rmm-watchdog supervises this agent: nobody would start it again");
    }
    if (auto held = local::read_update_lock(state_dir_); held && held->pid != platform::own_pid()) {
      return failf("another update (pid {}) is in progress", held->pid);
    }
    return set_phase(local::UpdatePhase::kStart);  // held, agent still running
  }

  Status stop(std::chrono::milliseconds grace) override {
    if (auto st = set_phase(local::UpdatePhase::kStop); !st) return st;
    auto health = local::read_health(state_dir_);
    if (!health || !local::process_alive(health->pid)) return {};  // already stopped
    // The watchdog sees the lock and stops its child too; asking here as well makes the stop
    // independent of the watchdog's poll interval.
    platform::request_stop(health->pid);
    // Gone means reaped: until the watchdog has seen the exit, under this lock, it must not see
    // the next phase (it would count the exit as a crash of the new binary).
    if (wait_gone(health->pid, grace)) return {};
    log::warn("update.agent_kill", {{"pid", health->pid}});
    platform::force_stop(health->pid);
    if (!wait_gone(health->pid, 5s)) return failf("agent pid {} does not stop", health->pid);
    return {};
  }

  Status start() override {
    std::error_code ec;
    fs::remove(local::crash_loop_path(state_dir_), ec);
    fs::remove(local::health_path(state_dir_), ec);  // only the new agent's word counts now
    // Unique across updates too (a later updater must not reuse an earlier one's number).
    auto now =
        static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    cycle_ = now > cycle_ ? now : cycle_ + 1;
    return set_phase(local::UpdatePhase::kStart);
  }

  bool crash_looping() const override {
    std::error_code ec;
    return fs::exists(local::crash_loop_path(state_dir_), ec);
  }

  void release() override { local::remove_update_lock(state_dir_); }

 private:
  Status set_phase(local::UpdatePhase phase) {
    return local::write_update_lock(state_dir_, {platform::own_pid(), phase, cycle_});
  }

  static bool wait_gone(pid_t pid, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (local::process_exists(pid)) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(50ms);
    }
    return true;
  }

  fs::path state_dir_;
  std::uint64_t cycle_ = 0;
};

}  // namespace

std::unique_ptr<AgentControl> make_watchdog_control(const fs::path& state_dir) {
  return std::make_unique<WatchdogControl>(state_dir);
}

}  // namespace rmm::updater
