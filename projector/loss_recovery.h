// The control plane of a range the stream deleted before the live projector folded it: when the
// runner has proven a range of RMM_EVENTS deleted (stream_state.h), the range's control events
// are still in the control archive (RMM_CONTROL). They are read with the reader the replays use
// (rebuild/control_archive.h), each under its original sequence, and folded in the transaction
// that records the loss, so only the telemetry is lost and the live read models hold what a
// rebuild, which fills the same range from the same archive, would.
//
// Three outcomes: the range's control events (possibly none); the archive cannot supply them at
// all (it does not exist, is no control archive, or none is configured): they are lost with the
// telemetry, and that is said; or an error: not now (the archive has not caught up past the range
// within `catch_up_wait`, or NATS failed), and the caller must not pass the range yet.
//
// Concurrency: runs on the caller's thread, blocking up to `catch_up_wait` plus the reads.
// Limitations: the range's control events are held in memory and folded in one transaction; the
// archive cannot tell control events that aged out before it was created (or that the stream
// deleted before the archive copied them) from none: the same limitation as a rebuild's.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/nats_connection.h"
#include "common/result.h"
#include "projector/db/stream_losses.h"
#include "projector/folds/decode.h"

namespace rmm::projector {

struct ArchivedControl {
  std::vector<BatchItem> items;  // the range's control events, in order, under their sequences
  // Why the archive could not supply the range, when it could not: its control events are lost.
  std::string unavailable;
};

// The control events with origin sequence `from` .. `to` (inclusive) of `stream`, from `archive`
// (empty: none configured).
Result<ArchivedControl> read_archived_control(nats::Connection& conn, const std::string& archive,
                                              const std::string& stream, StreamSeq from,
                                              StreamSeq to,
                                              std::chrono::milliseconds catch_up_wait);

// What the runner folds over a range it proved deleted (`proof`: how), and the loss it states
// for the writer (db::Continuity).
struct RecoveredRange {
  std::vector<BatchItem> items;  // the range's control events (read_archived_control)
  db::StreamLoss loss;           // the whole range; the writer counts the items out of it
};

// read_archived_control, logged: `stream.events_lost` (error) with the telemetry lost and the
// control events recovered, `stream.events_recovered` (warning) when nothing was lost,
// `stream.control_events_lost` (error) when the archive could not supply the range, and
// `stream.gap_deferred` (error) with the error returned when it could not yet.
Result<RecoveredRange> recover_deleted_range(nats::Connection& conn, const std::string& stream,
                                             const std::string& archive, StreamSeq from,
                                             StreamSeq to, const std::string& proof,
                                             std::chrono::milliseconds catch_up_wait);

}  // namespace rmm::projector
