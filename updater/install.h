// Replacing the agent's binary, keeping the previous one:
//   <bin>.new   the verified artifact, written and fsynced first
//   <bin>.prev  the binary being replaced (the rollback target)
//   <bin>.failed  the binary a rollback replaced, kept for inspection
// Linux: <bin>.prev is a hard link, and <bin>.new is renamed over <bin>, so at every instant <bin>
// is a whole old or new binary; restoring links <bin>.prev back over <bin> the same way, and the
// directory is fsynced after each rename so the swap survives a power loss. Windows cannot
// replace a running image: <bin> is renamed to <bin>.prev first, then <bin>.new moved in
// (updater/platform/file_swap.h says what each platform guarantees).
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
