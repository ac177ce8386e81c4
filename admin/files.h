// Small file helpers for key material: crash-safe writes with an explicit mode, and the NATS
// `.creds` format.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::broker {

// Writes `content` to a temp file created with `mode`, fsyncs, renames over `path`, fsyncs the
// directory: a crash leaves either the old or the new file, never a torn one.
Status write_file_atomic(const std::filesystem::path& path, std::string_view content, mode_t mode);
Result<std::string> read_file(const std::filesystem::path& path);
// Creates `dir` (and parents) if needed and sets its mode.
Status ensure_dir(const std::filesystem::path& dir, mode_t mode);

// The standard NATS credentials file: a user JWT block and a user seed block, as read by
// nats.c's natsOptions_SetUserCredentialsFromFiles(opts, path, NULL).
std::string format_creds(std::string_view user_jwt, std::string_view user_seed);

}  // namespace rmm::broker
