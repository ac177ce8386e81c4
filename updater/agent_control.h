// How the updater stops and starts the agent: a platform interface, implemented for Linux and
// Windows through rmm-watchdog (updater/watchdog_control.h: the update lock in the state dir).
//
// Limitations: macOS returns kNotSupported (TODO(platform): launchd). Without a running watchdog
// the updater refuses to stop the agent (nobody would start it again).
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
