// The agent's side of an update_agent command: it verifies nothing itself and hands the command to
// rmm-updater, started detached so that it outlives the agent it is about to stop. The updater
// reports every step as UpdateProgress events through the spool (common/update_events.h).
#pragma once

#include <filesystem>
#include <string>

#include "common/command_codec.h"
#include "common/ids.h"
#include "common/nats_tls.h"
#include "common/result.h"

namespace rmm::agent::updates {

struct UpdaterLaunch {
  std::filesystem::path updater;  // rmm-updater, absolute
  std::filesystem::path state_dir;
  std::string nats_url;
  nats::TlsClientOptions nats_tls;  // passed on, so the updater pins what the agent pins
  std::string nats_js_domain;       // passed on: where RMM_RELEASES is (a site's agent: "hub")
};

Status launch_updater(const UpdaterLaunch& launch, const CommandId& command,
                      const codec::UpdateAgentSpec& spec);

}  // namespace rmm::agent::updates
