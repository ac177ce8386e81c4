// The lock that keeps a read-model schema swap (rmm-projector rebuild) from landing in the middle
// of a batch. Every batch transaction takes it shared as its FIRST statement, before it names any
// table; the swap takes it exclusive. Names resolve when a statement runs, and a schema rename
// re-plans even prepared statements, so a batch that straddled a swap would write half into the
// old schema and half into the new one. With the lock, a batch runs wholly before the swap or
// wholly after it.
//
// The key is per schema name (the first schema of the connection's search_path), so a rebuild
// writing into its own scratch schema never waits for the swap of `public`.
#pragma once

#include <string_view>

namespace rmm::projector::db {

// Run by the batch writer at the start of each batch transaction.
inline constexpr std::string_view kSwapGuardSharedSql =
    "SELECT pg_advisory_xact_lock_shared(hashtext('rmm_read_models.' || current_schema()))";

// Run by the swap, with the live schema's name as $1.
inline constexpr std::string_view kSwapGuardExclusiveSql =
    "SELECT pg_advisory_xact_lock(hashtext('rmm_read_models.' || $1))";

}  // namespace rmm::projector::db
