// The PostgreSQL schemas of a rebuild: the live read models live in `public` (the default
// search_path of every GuruRMM connection, so the API and the projector need no setting); a
// rebuild or verify writes into its own schema (rmm_rebuild_<n>, rmm_verify_<n>) through a
// connection whose search_path names only that schema, so the migrations, the batch writer and
// the partition functions all work unchanged there. The swap renames `public` away and the new
// schema to `public` in one transaction (docs/operations.md).
//
// Concurrency: the swap takes the swap guard (db/swap_guard.h) exclusive, so it waits for the
// live projector's batch in progress and holds the next one until it commits.
// Limitations: schema-level grants are reset to PostgreSQL's default for `public` (USAGE to
// PUBLIC); table grants to other roles must be given again after a swap.
#pragma once

#include <filesystem>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::projector::rebuild {

inline constexpr std::string_view kLiveSchema = "public";

// "<prefix>_<unix seconds>_<pid>": unique per run on this host.
std::string scratch_schema_name(std::string_view prefix);

// Creates `schema` (fresh: an error if it exists), points the connection's search_path at it
// alone and applies the migrations there.
Status create_read_model_schema(pqxx::connection& conn, const std::string& schema,
                                const std::filesystem::path& migrations_dir);
// search_path = `schema` only (for a reconnect, or a second connection to a scratch schema).
Status use_schema(pqxx::connection& conn, const std::string& schema);

Status drop_schema(pqxx::connection& conn, const std::string& schema);

// The secondary indexes of the raw metrics table in `schema` (non-unique, so no fold depends on
// them), dropped for the bulk load of a replay: COPY then only appends. Returns their
// definitions for restore_indexes().
Result<std::vector<std::string>> defer_indexes(pqxx::connection& conn, const std::string& schema);
// Creates them again (each on the partitioned parent, so on every partition).
Status restore_indexes(pqxx::connection& conn, const std::vector<std::string>& definitions);

// The core projection's checkpoint in `schema` (0 when it has none, or no table yet), read in
// the caller's transaction. Throws what libpqxx throws.
StreamSeq schema_checkpoint(pqxx::transaction_base& tx, const std::string& schema);

// Whether the read models of `schema` are the fold of a prefix of the log: always for the single
// projection; for the partitioned one (docs/architecture.md) when every unit's watermark reached
// the furthest unit checkpoint, i.e. no unit is still behind messages another one folded past.
bool folded_as_prefix(pqxx::transaction_base& tx, const std::string& schema);

// A rebuild's swap: the units of `live` (if partitioned) go on in `rebuilt` from `position`, the
// sequence the rebuilt read models were folded to (their own checkpoints at or below it would make
// them fold again what the rebuild already did).
Status carry_unit_checkpoints(pqxx::transaction_base& tx, const std::string& live,
                              const std::string& rebuilt, StreamSeq position);
// The same in its own transaction.
Result<StreamSeq> schema_checkpoint(pqxx::connection& conn, const std::string& schema);

}  // namespace rmm::projector::rebuild
