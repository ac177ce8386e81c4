#include "agent/updates/updater_launch.h"

#include <vector>

#include "agent/platform/detached.h"
#include "agent/version.h"
#include "common/log.h"

namespace rmm::agent::updates {

Status launch_updater(const UpdaterLaunch& launch, const CommandId& command,
                      const codec::UpdateAgentSpec& spec) {
  if (spec.version.empty()) return fail("update_agent names no version");
  auto self = platform::current_executable();
  if (!self) return std::unexpected(self.error());
  std::vector<std::string> argv = {launch.updater.string(),
                                   "--state-dir",
                                   launch.state_dir.string(),
                                   "--nats-url",
                                   launch.nats_url,
                                   "--agent-binary",
                                   self->string(),
                                   "--version",
                                   spec.version,
                                   "--command-id",
                                   command.str(),
                                   "--from-version",
                                   std::string(kAgentVersion)};
  if (!launch.nats_tls.ca_file.empty()) {
    argv.push_back("--nats-ca");
    argv.push_back(launch.nats_tls.ca_file);
  }
  if (!launch.nats_tls.server_name.empty()) {
    argv.push_back("--nats-tls-name");
    argv.push_back(launch.nats_tls.server_name);
  }
  if (!launch.nats_js_domain.empty()) {
    argv.push_back("--nats-js-domain");
    argv.push_back(launch.nats_js_domain);
  }
  if (!spec.sha256.empty()) {
    argv.push_back("--sha256");
    argv.push_back(spec.sha256);
  }
  if (spec.allow_downgrade) argv.push_back("--allow-downgrade=true");
  log::info("update.handing_off", {{"command_id", command.str()}, {"version", spec.version}});
  return platform::spawn_detached(argv, launch.state_dir / "updater.log");
}

}  // namespace rmm::agent::updates
