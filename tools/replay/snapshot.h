// `rmm-replay snapshot --until T --schema NAME --pg-url URL`: the read models as they stood at T,
// built into their own PostgreSQL schema for SQL analysis (docs/analysts.md). It calls the
// projector's point-in-time rebuild (projector/rebuild/snapshot.h) in-process, so it folds with
// exactly the code and migrations of `rmm-projector rebuild --until`.
#pragma once

#include <atomic>

namespace rmm::replay {

// argv[0] is the command name. Exit codes as rmm-projector rebuild --until: 0 built, 1 failed,
// 2 refused or a usage error.
int run_snapshot_command(int argc, char** argv, const std::atomic<bool>& stop);

}  // namespace rmm::replay
