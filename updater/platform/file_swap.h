// The file-system steps of replacing the agent's binary (updater/install.h), per platform: Linux
// renames over the binary and keeps a hard link to the old one; Windows cannot replace a mapped
// image in place, so it renames the old one aside first (platform/windows/file_swap_windows.cc).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "common/result.h"

namespace rmm::updater::platform {

// Writes `content` to `path` as an executable file and flushes it to disk.
Status write_executable(const std::filesystem::path& path, std::span<const std::uint8_t> content);
// Makes `staged` the new `bin`; the replaced binary becomes `previous`.
Status replace_binary(const std::filesystem::path& bin, const std::filesystem::path& staged,
                      const std::filesystem::path& previous);
// Makes `previous` `bin` again, keeping `previous`; the binary it replaces becomes `failed`
// (best effort: it is only kept for inspection).
Status restore_binary(const std::filesystem::path& bin, const std::filesystem::path& previous,
                      const std::filesystem::path& failed);

}  // namespace rmm::updater::platform
