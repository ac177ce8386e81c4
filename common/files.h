// Small file helpers with the durability recipe: write a temp file, fsync it, rename it over the
// target, fsync the directory. A crash leaves either the old or the new content, never a mix.
// The writes are per platform (common/platform/{posix,windows}/files_*.cc). On Windows `mode` is
// not applied: a file gets the ACL of its directory (the agent's state directory admits only
// SYSTEM and Administrators).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::files {

Status write_atomic(const std::filesystem::path& path, std::string_view content,
                    mode_t mode = 0600);
// Creates `path` with `content`, synced, and fails when it already exists: a key written by
// mistake over another would lose the old one for good.
Status write_new(const std::filesystem::path& path, std::string_view content, mode_t mode = 0600);
// Renames a complete temp file over `path`, without syncing: for liveness files rewritten every
// second, which need atomicity but no durability.
Status write_replace(const std::filesystem::path& path, std::string_view content);
Result<std::string> read_all(const std::filesystem::path& path);
// Creates the directory (and parents) and sets its mode.
Status ensure_dir(const std::filesystem::path& path, mode_t mode = 0700);

}  // namespace rmm::files
