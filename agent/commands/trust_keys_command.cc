#include "agent/commands/trust_keys_command.h"

#include <array>
#include <cstdio>

#include "agent/commands/command_keys.h"
#include "common/config.h"
#include "common/install_paths.h"

namespace rmm::agent {
namespace {

const std::array<config::Setting, 1> kSettings = {{
    {"state-dir", config::Type::kString, rmm::install_paths::agent_state_dir(),
     "agent state: gets command_keys"},
}};

}  // namespace

int run_trust_keys_command(int argc, const char* const* argv) {
  auto cfg = config::Values::load(kSettings, argc, argv);
  if (!cfg) {
    std::fprintf(stderr, "rmm-agent trust-command-keys: %s\n", cfg.error().message.c_str());
    return 2;
  }
  if (cfg->help_requested()) {
    std::fputs(config::usage("rmm-agent trust-command-keys [--state-dir DIR] KEY...",
                             "Replaces the command keys this agent trusts (hex Ed25519 public "
                             "keys, as `rmm-admin command-key list` prints them).",
                             kSettings)
                   .c_str(),
               stdout);
    return 0;
  }
  auto keys = parse_command_key_list(cfg->positional());
  if (!keys) {
    std::fprintf(stderr, "rmm-agent trust-command-keys: %s\n", keys.error().message.c_str());
    return 2;
  }
  if (auto s = save_command_keys(cfg->str("state-dir"), *keys); !s) {
    std::fprintf(stderr, "rmm-agent trust-command-keys: %s\n", s.error().message.c_str());
    return 1;
  }
  for (const auto& k : *keys) std::printf("%s\n", k.key_id.c_str());
  return 0;
}

}  // namespace rmm::agent
