#include "common/install_paths.h"

namespace rmm::install_paths {

std::string_view agent_state_dir() {
  return kAgentStateDir;
}

std::string_view agent_updater() {
  return kUpdater;
}

}  // namespace rmm::install_paths
