// AgentControl through rmm-watchdog and the files in the state dir (common/agent_local.h): the
// updater holds `update.lock` in phase "stop" while the binary is swapped (the watchdog keeps the
// agent stopped and does not count its exit as a crash), then switches it to "start" (the watchdog
// starts the new binary with a fresh crash history) and releases it when done. The same protocol
// serves Linux and Windows; only signalling the agent is per platform
// (updater/platform/agent_process.h).
#pragma once

#include <filesystem>
#include <memory>

#include "updater/agent_control.h"

namespace rmm::updater {

std::unique_ptr<AgentControl> make_watchdog_control(const std::filesystem::path& state_dir);

}  // namespace rmm::updater
