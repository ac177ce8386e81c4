// The settings applied by `apply_config` commands, persisted in `<state dir>/applied_config` so
// they survive restarts: one `name=value` line per setting, written with the durability recipe
// (temp file, fsync, rename, fsync directory). A later command's value for a name replaces the
// earlier one; names not mentioned keep theirs.
//
// The agent's startup reads this file (load_applied_config) and gives its values precedence over
// its defaults, below flags and environment; see docs/events.md (apply_config).
//
// Concurrency: one writer (the command runner); readers see the old or the new file, never a mix.
#pragma once

#include <filesystem>

#include "common/command_codec.h"

namespace rmm::agent {

inline constexpr std::string_view kAppliedConfigFile = "applied_config";

// Empty when the file does not exist.
Result<codec::KeyValues> load_applied_config(const std::filesystem::path& state_dir);
// Merges `settings` into the file; returns the merged settings.
Result<codec::KeyValues> merge_applied_config(const std::filesystem::path& state_dir,
                                              const codec::KeyValues& settings);

}  // namespace rmm::agent
