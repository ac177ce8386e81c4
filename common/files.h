// Small file helpers with the durability recipe: write a temp file, fsync it, rename it over the
// target, fsync the directory. A crash leaves either the old or the new content, never a mix.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::files {

Status write_atomic(const std::filesystem::path& path, std::string_view content,
                    mode_t mode = 0600);
Result<std::string> read_all(const std::filesystem::path& path);
// Creates the directory (and parents) and sets its mode.
Status ensure_dir(const std::filesystem::path& path, mode_t mode = 0700);

}  // namespace rmm::files
