#include "updater/agent_control.h"
#include "updater/watchdog_control.h"

namespace rmm::updater {

std::unique_ptr<AgentControl> make_agent_control(const std::filesystem::path& state_dir) {
  return make_watchdog_control(state_dir);
}

}  // namespace rmm::updater
