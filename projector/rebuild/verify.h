// Compares two read-model schemas table by table: every table of the live schema (partitioned
// tables as a whole, not their partitions) against the table of the same name in the other.
//
// Per table, a checksum over the rows: the count and the sum of the first 64 bits of md5(row
// text) of every row. It is independent of row order, so no sort, and it counts duplicates, so
// it compares multisets. Only for a table whose checksums differ are the rows read, ordered by
// their md5 through a cursor on each side, and merged: rows found on one side only are printed,
// at most `max_diffs` per table.
//
// Some columns legitimately differ between a rebuild and the live read models; they are left
// out by name (kUnstableColumns in verify.cc, each with the reason).
//
// Concurrency: each side is read in the caller's transaction; the live side should be a
// REPEATABLE READ snapshot so its rows and checkpoint are one consistent state.
#pragma once

#include <cstdint>
#include <map>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "common/result.h"

namespace rmm::projector::rebuild {

struct TableDifference {
  std::string table;
  std::int64_t live_rows = 0, rebuilt_rows = 0;
  std::string note;                    // e.g. "missing in the rebuilt schema"
  std::vector<std::string> only_live;  // row text, bounded by max_diffs
  std::vector<std::string> only_rebuilt;
};

struct VerifyReport {
  std::vector<std::string> tables;  // compared, in name order
  std::vector<TableDifference> differences;
  bool equal() const { return differences.empty(); }
};

// A table -> SQL condition on its rows: only those rows are compared (retention windows).
using RowFilters = std::map<std::string, std::string, std::less<>>;

Result<VerifyReport> compare_schemas(pqxx::transaction_base& live, const std::string& live_schema,
                                     pqxx::transaction_base& rebuilt,
                                     const std::string& rebuilt_schema, std::size_t max_diffs,
                                     const RowFilters& filters = {});

// Human-readable lines for the report (stdout of rmm-projector verify).
std::string format_report(const VerifyReport& report);

}  // namespace rmm::projector::rebuild
