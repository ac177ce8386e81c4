// The event log as a replay must see it: RMM_EVENTS in stream order, with every range it no
// longer holds (telemetry aged out, messages discarded at a limit) filled with that range's
// control events from the archive (rebuild/control_archive.h), each under its origin sequence.
// Every message keeps the RMM_EVENTS sequence it was stored under, so checkpoints, audit rows and
// alert ids mean the same in a replay as in the live read models.
//
// A hole shows as a jump in the delivered sequence (the ordered consumer skips what the stream
// deleted), or, at the end of what was delivered, as the stream's first sequence moving past it
// (checked when nothing arrives). The archive is opened at the first hole: a log without holes
// needs none.
//
// Concurrency: one owner thread.
// Limitations: telemetry in a hole is gone; `complete_from()` says where the log is whole again
// (rebuild/verify.h compares only the control plane below it).
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/result.h"
#include "projector/rebuild/control_archive.h"
#include "projector/rebuild/ordered_stream.h"

namespace rmm::projector::rebuild {

struct LogOptions {
  std::string stream = "RMM_EVENTS";
  std::string archive = std::string(kControlArchive);  // empty: a hole is an error
  // Control events of a hole read from the archive at a time (bounds the memory a hole takes).
  std::size_t chunk = 4096;
};

class MergedLog {
 public:
  // Delivers the log from `first` (1 = the whole history).
  static Result<std::unique_ptr<MergedLog>> open(nats::Connection& conn, LogOptions options,
                                                 StreamSeq first);
  MergedLog(const MergedLog&) = delete;
  MergedLog& operator=(const MergedLog&) = delete;

  // Appends up to `max` messages with sequence <= `upto` to `out`, in order. Waits at most `wait`
  // for the first one, then takes only what is already buffered (or arrives within a
  // millisecond). A message past `upto` is kept for a later call with a higher bound.
  Status next_batch(std::vector<StreamMessage>& out, std::size_t max, StreamSeq upto,
                    std::chrono::milliseconds wait);
  // Whether a message past the last call's bound is waiting: the caller is at its bound.
  bool holding() const { return at_bound_; }
  // Every sequence up to here has been handed out by next_batch or no longer exists: a replay
  // that applied what it was handed is at this checkpoint.
  StreamSeq through() const { return through_; }
  // The first sequence after the last hole (1 when there was none): from here the log is whole.
  StreamSeq complete_from() const { return complete_from_; }
  // Messages read from the archive so far.
  std::uint64_t archived() const { return archived_; }

 private:
  struct Absent {
    StreamSeq through;  // no message up to here is missing any more
  };
  using Entry = std::variant<StreamMessage, Absent>;
  // A range the stream no longer holds, read from the archive a chunk at a time.
  struct Hole {
    StreamSeq from, to;                 // still to be read from the archive
    std::optional<StreamMessage> next;  // the stream's message after it, if one ended it
  };

  MergedLog(nats::Connection& conn, LogOptions options, StreamSeq first)
      : conn_(conn), options_(std::move(options)), next_(first), through_(first.value - 1) {}
  // Queues one message of the stream, or the next chunk of a hole; false when nothing arrived
  // within `wait`.
  Result<bool> fill(std::chrono::milliseconds wait);
  // Starts the hole [next_, before - 1], followed by `after` when the stream delivered it.
  Status open_hole(StreamSeq before, std::optional<StreamMessage> after);
  // Queues the next chunk of the hole's control events, and its end once it is read.
  Status fill_hole();

  nats::Connection& conn_;
  LogOptions options_;
  std::unique_ptr<OrderedStream> stream_;
  std::unique_ptr<ControlArchive> archive_;
  std::deque<Entry> queue_;
  std::optional<Hole> hole_;
  StreamSeq next_;  // the sequence the log expects next from the stream
  StreamSeq through_;
  StreamSeq complete_from_{1};
  std::uint64_t archived_ = 0, hole_archived_ = 0;
  bool at_bound_ = false;
};

}  // namespace rmm::projector::rebuild
