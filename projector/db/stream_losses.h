// Stream losses (migrations 0009 and 0010, table ops.stream_losses): ranges of sequences past a
// projection's checkpoint that the stream deleted before the projector folded them. The range's
// control events are folded from the control archive in the batch transaction that moves the
// checkpoint over the range; the row, recorded in that transaction, counts what is really gone
// (the range less the recovered control events). Listed by `rmm-projector losses` and `tools/rmm
// status`, acknowledged by an operator (docs/operations.md, "When the stream overflows").
//
// The partitioned projection (docs/architecture.md) records a range once for the projection as a
// whole, not once per unit: its 17 units each find the same deleted range past their own position
// (a unit cannot tell which of the deleted messages were its own), and an operator has one loss to
// deal with, not 17. The row's projection is the units' projection ("core"); the reason names the
// unit that found the range first; a unit finding part of a range already recorded records only
// the rest. Its count is then an upper bound: the range's sequences less the control events the
// control unit recovered, some of which other units may have folded before the stream deleted them.
//
// Concurrency: the functions run statements on the given connection or transaction; a unit's
// recording takes a transaction-scoped advisory lock, so units recording at once never overlap.
// Limitations: the table lives outside the read-model schema (like `auth`), so a rebuild keeps it;
// a rebuild itself records nothing (it folds whatever the stream still holds).
#pragma once

#include <cstdint>
#include <optional>
#include <pqxx/connection>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::projector::db {

// A range the caller proved deleted from `stream` (every sequence in it).
struct StreamLoss {
  std::string stream;
  StreamSeq from;
  StreamSeq to;  // inclusive
  std::string reason;
  // Of the range, the control events folded from the control archive (set by the writer, which
  // counts the items it folded inside the range): the row's count is the rest.
  std::uint64_t recovered = 0;
};

struct RecordedLoss {
  std::int64_t id = 0;
  std::string projection;
  std::string stream;
  std::uint64_t from_seq = 0;
  std::uint64_t to_seq = 0;
  std::uint64_t count = 0;      // deleted and not recovered
  std::uint64_t recovered = 0;  // control events of the range folded from the archive
  std::string detected_at;      // RFC 3339, UTC
  std::string reason;
};

// Inside the batch transaction (throws like any statement there); `loss.recovered` must be below
// the range's size. Recording the same range twice (a retried commit whose outcome was in doubt)
// keeps the first row.
void record_stream_loss(pqxx::transaction_base& tx, std::string_view projection,
                        const StreamLoss& loss);

// A unit of the partitioned projection `projection` proved `loss` deleted past its position, and
// folds `recovered` (the sequences of the control events it read from the archive in the range,
// none for a partition unit) in the same transaction: records the parts of the range no row of
// `projection` covers yet (the unit named in the reason) and counts the recovered control events
// out of whichever row holds them (a row left with nothing lost is removed). The number of
// sequences newly recorded as lost.
std::uint64_t record_unit_stream_loss(pqxx::transaction_base& tx, std::string_view projection,
                                      std::string_view unit, const StreamLoss& loss,
                                      const std::vector<std::uint64_t>& recovered);

// The losses not acknowledged yet, oldest first; empty when migration 0009 was not applied.
Result<std::vector<RecordedLoss>> open_stream_losses(pqxx::connection& conn);

// Marks loss `id` (every open loss when nullopt) acknowledged by `by`; the number marked.
Result<int> acknowledge_stream_losses(pqxx::connection& conn, std::optional<std::int64_t> id,
                                      std::string_view by);

}  // namespace rmm::projector::db
