// Replacing the agent's binary atomically, keeping the previous one:
//   <bin>.new   the verified artifact, written and fsynced first
//   <bin>.prev  a hard link to the binary being replaced (the rollback target)
//   <bin>       renamed over by <bin>.new: at every instant <bin> is a whole old or new binary
// Restoring links <bin>.prev back over <bin> the same way. The directory is fsynced after each
// rename so the swap survives a power loss.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>

#include "common/result.h"

namespace rmm::updater {

std::filesystem::path staged_path(const std::filesystem::path& bin);
std::filesystem::path previous_path(const std::filesystem::path& bin);

Status stage(const std::filesystem::path& bin, std::span<const std::uint8_t> artifact);
Status swap_in(const std::filesystem::path& bin);
Status restore_previous(const std::filesystem::path& bin);

}  // namespace rmm::updater
