// rmm-admin's command key commands (docs/command-signing.md): command-key-list, command-key-new,
// command-key-activate, command-key-retire. They change files under <home>/command-keys only;
// the issuers (rmm-api, the rollout controller) read them at start, and agents learn the trusted
// set from trust_command_keys commands (POST /api/v1/commands).
#pragma once

#include <span>

#include "common/config.h"

namespace rmm::admin {

std::span<const config::Setting> command_key_settings();
std::span<const config::Setting> command_key_retire_settings();

int run_command_key_list(const config::Values& v);
int run_command_key_new(const config::Values& v);
int run_command_key_activate(const config::Values& v);
int run_command_key_retire(const config::Values& v);

}  // namespace rmm::admin
