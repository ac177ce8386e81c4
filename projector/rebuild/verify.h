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
// When the log no longer holds every message (`complete_from` > 1: telemetry aged out of the
// stream, its control events were read from the control archive), only what the control events
// alone determine can match: the control-plane tables (control_plane() in verify.cc, some
// restricted to the rows and columns the control events set) are compared, every other table is
// reported as not comparable.
//
// Concurrency: each side is read in the caller's transaction; the live side should be a
// REPEATABLE READ snapshot so its rows and checkpoint are one consistent state.
#pragma once

#include <cstdint>
#include <map>
#include <pqxx/transaction_base>
#include <string>
#include <vector>

#include "common/ids.h"
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
  // A partial log: the first sequence from which it is whole, and the tables left out.
  StreamSeq complete_from{1};
  std::vector<std::string> not_comparable;
  bool equal() const { return differences.empty(); }
};

// A table -> SQL condition on its rows: only those rows are compared (retention windows).
using RowFilters = std::map<std::string, std::string, std::less<>>;

Result<VerifyReport> compare_schemas(pqxx::transaction_base& live, const std::string& live_schema,
                                     pqxx::transaction_base& rebuilt,
                                     const std::string& rebuilt_schema, std::size_t max_diffs,
                                     const RowFilters& filters = {},
                                     StreamSeq complete_from = StreamSeq{1});

// The tables compared when the log is partial, in name order.
std::vector<std::string> control_plane_tables();

// Human-readable lines for the report (stdout of rmm-projector verify).
std::string format_report(const VerifyReport& report);

}  // namespace rmm::projector::rebuild
