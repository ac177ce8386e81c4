// The agent's msg id key (common/msg_ids.h) in `<state dir>/msg_id_key`: 16 random bytes,
// mode 0600, created before the first publish and kept for the life of the state dir.
//
// Crash safety: a new key is written with the files::write_atomic recipe (temp file, fsync,
// rename, fsync of the directory), so a crash leaves either no file (a new key at the next start,
// before anything is published with it) or the whole key.
// Limitations: a file of the wrong size is replaced by a new key, with a warning. A new key only
// changes the ids of re-sends of events already published (the stream then stores such an event
// twice and the projector's per-agent sequence check skips the copy), never what is stored.
// The key is a secret: never logged, never sent.
#pragma once

#include <filesystem>

#include "common/msg_ids.h"
#include "common/result.h"

namespace rmm::agent {

Result<MsgIdKey> load_or_create_msg_id_key(const std::filesystem::path& file);

}  // namespace rmm::agent
