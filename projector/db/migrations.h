// Versioned SQL migrations: files `NNNN_name.sql` in one directory, applied in version order, each
// in its own transaction, recorded in schema_migrations with the SHA-256 of the file's text (line
// endings normalised to LF, so a CRLF checkout has the same checksum).
//
// An applied migration whose file has since changed, or an applied version whose file is gone, is
// a startup error: the schema would no longer match what the code was written against.
//
// Concurrency: apply_migrations() holds a session advisory lock for its whole run, so projectors
// started together apply each migration once; the others wait, then find nothing to do.
#pragma once

#include <filesystem>
#include <pqxx/connection>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::projector::db {

struct Migration {
  int version = 0;
  std::string name;      // "initial" for 0001_initial.sql
  std::string filename;  // "0001_initial.sql"
  std::string sql;
  std::string checksum;  // lower-case hex SHA-256 of `sql` with line endings normalised
};

struct MigrationReport {
  int applied = 0;          // newly applied by this call
  int already_applied = 0;  // found in schema_migrations with a matching checksum
};

// Replaces CRLF and lone CR with LF.
std::string normalise_line_endings(std::string_view text);
// Hex SHA-256 of the normalised text.
std::string migration_checksum(std::string_view text);

// Reads every `NNNN_name.sql` in `dir`, sorted by version. A .sql file with another name, or two
// files with one version, is an error.
Result<std::vector<Migration>> load_migrations(const std::filesystem::path& dir);

// Applies what `dir` holds and the database lacks. Catches libpqxx exceptions.
Result<MigrationReport> apply_migrations(pqxx::connection& conn, const std::filesystem::path& dir);

}  // namespace rmm::projector::db
