// The NATS `.creds` file format (crash-safe file writes are common/files.h).
#pragma once

#include <string>
#include <string_view>

#include "admin/nkeys.h"
#include "common/result.h"

namespace rmm::broker {

// The standard NATS credentials file: a user JWT block and a user seed block, as read by
// nats.c's natsOptions_SetUserCredentialsFromFiles(opts, path, NULL).
std::string format_creds(std::string_view user_jwt, std::string_view user_seed);
// The user key pair of a credentials file's seed block (kInvalidInput when there is none).
Result<KeyPair> key_from_creds(std::string_view creds_text);

}  // namespace rmm::broker
