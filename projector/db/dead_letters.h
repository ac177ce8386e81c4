// Writes a batch's dead letters, at most kDeadLettersPerSourceHour per source (the agent whose
// subject carried the message, or "control") and hour of the stream's time; past that a message
// is only counted. `dead_letter_hours` holds, per projection, source and hour, how many were
// stored and how many dropped, so the cap holds across batches and a replay of the same log
// stores the same rows. Rows keep the first kDeadLetterRawBytes of the message with the size and
// SHA-256 of the whole (folds/decode.h); the message itself stays in the stream while the stream
// keeps it (the row names its stream_seq).
//
// Retention (expire_dead_letters) is upkeep, by the wall clock: rows whose stream time is older
// than dead-letter-retention are deleted with their hour counts.
//
// Concurrency: inside the batch transaction of the projection's one owner.
// Limitations: one agent's garbage still costs up to kDeadLettersPerSourceHour rows of at most
// kDeadLetterRawBytes each per hour, for dead-letter-retention.
#pragma once

#include <chrono>
#include <cstdint>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "projector/folds/decode.h"

namespace rmm::projector::db {

inline constexpr int kDeadLettersPerSourceHour = 100;

struct DeadLetterCounts {
  int stored = 0;
  int dropped = 0;  // over the cap: counted in dead_letter_hours only
};

class DeadLetterBatch {
 public:
  // In stream order.
  void add(const DeadLetter& dl, StreamSeq stream_seq) { items_.push_back({&dl, stream_seq}); }
  bool empty() const { return items_.empty(); }
  DeadLetterCounts write(pqxx::work& tx, const std::string& projection) const;

 private:
  struct Item {
    const DeadLetter* dl;
    StreamSeq stream_seq;
  };
  std::vector<Item> items_;
};

// Deletes the dead letters (and hour counts) of every projection whose stream time is before
// now - keep (rows from before migration 0014, without one, by received_at). Returns the dead
// letters deleted.
Result<std::int64_t> expire_dead_letters(pqxx::connection& conn, UnixNanos now,
                                         std::chrono::milliseconds keep);

}  // namespace rmm::projector::db
