// rmm-projector losses [--acknowledge=all|ID]: the stream losses an operator has not acknowledged
// yet (db/stream_losses.h), one line each, for people and for `tools/rmm status`.
#pragma once

#include <string>

namespace rmm::projector {

// Exit status: 0 no open loss (or the acknowledgement succeeded), 1 open losses are listed, 2 the
// database could not be read or `acknowledge` is neither "all" nor a loss id.
int run_losses(const std::string& pg_url, const std::string& acknowledge);

}  // namespace rmm::projector
