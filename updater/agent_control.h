// How the updater stops and starts the agent: a platform interface, implemented for Linux through
// rmm-watchdog (common/agent_local.h: the update lock). The watchdog supervises the agent; the
// updater holds `update.lock` in phase "stop" while the binary is swapped (the watchdog keeps the
// agent stopped and does not count its exit as a crash), then switches it to "start" (the watchdog
// starts the new binary with a fresh crash history) and releases it when done.
//
// Limitations: Windows and macOS return kNotSupported (TODO(platform): service control manager,
// launchd). Without a running watchdog the updater refuses to stop the agent (nobody would start
// it again).
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>

#include "common/result.h"

namespace rmm::updater {

class AgentControl {
 public:
  virtual ~AgentControl() = default;
  // Fails when no supervisor would start the agent again, or another update holds the lock.
  virtual Status acquire() = 0;
  // Stops the agent (SIGTERM, then SIGKILL after `grace`) and keeps it stopped.
  virtual Status stop(std::chrono::milliseconds grace) = 0;
  // Lets the supervisor start the (new) binary.
  virtual Status start() = 0;
  // True when the supervisor gave up on the agent (crash loop) since start().
  virtual bool crash_looping() const = 0;
  virtual void release() = 0;
};

std::unique_ptr<AgentControl> make_agent_control(const std::filesystem::path& state_dir);

}  // namespace rmm::updater
