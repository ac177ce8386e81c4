// One update, start to finish: fetch and verify the release, stop the agent, swap the binary,
// start it, wait for health, else roll back. Every step is an UpdateProgress event in the spool.
//
// Exit codes of rmm-updater: 0 healthy on the new version, 1 refused (nothing changed),
// 2 failed before anything changed, 3 rolled back to the previous version, 4 rollback failed.
#pragma once

#include <chrono>
#include <filesystem>
#include <span>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "common/nats_tls.h"
#include "updater/agent_control.h"
#include "updater/release/signing.h"

namespace rmm::updater {

struct UpdateRequest {
  std::filesystem::path state_dir;
  std::string nats_url;
  nats::TlsClientOptions nats_tls;  // the CA the agent pins (<state-dir>/ca.pem) and the name
  std::string nats_js_domain;       // where RMM_RELEASES is: "" the server connected to, or "hub"
  std::filesystem::path agent_binary;
  std::string version;
  std::string from_version;
  CommandId command;
  std::string sha256;
  bool allow_downgrade = false;
  std::string platform;
  std::string arch;
  std::chrono::milliseconds fetch_timeout{10'000};
  std::chrono::milliseconds stop_grace{30'000};
  std::chrono::milliseconds health_timeout{60'000};
  // The new agent must stay healthy this long after it first reports its version.
  std::chrono::milliseconds stable_for{5'000};
};

enum class UpdateOutcome { kHealthy = 0, kRefused = 1, kFailed = 2, kRolledBack = 3, kBroken = 4 };

UpdateOutcome run_update(const UpdateRequest& request, std::span<const release::TrustedKey> trusted,
                         AgentControl& control, const Clock& clock);

}  // namespace rmm::updater
