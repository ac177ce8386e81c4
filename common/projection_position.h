// How far the read models have folded the event log, for readers that wait for their own events
// (the API's read-your-writes, the rollout controller): every message up to the returned stream
// sequence is folded. The single projection's checkpoint, or, for the partitioned projection
// (docs/architecture.md), the lowest watermark of its units, or the control unit's checkpoint: it
// commits a message only once every partition's watermark is past the one before, so everything up
// to its checkpoint is folded (and a reader waiting for its own control event need not wait for
// idle partitions to raise their watermarks). Whichever is furthest, since only one projection
// runs on a set of read models (rmm-projector refuses to mix them).
#pragma once

#include <string_view>

namespace rmm {

inline constexpr std::string_view kFoldedThroughSql =
    "SELECT GREATEST("
    "coalesce((SELECT stream_seq FROM projection_checkpoints WHERE projection = 'core'), 0), "
    "coalesce((SELECT min(GREATEST(stream_seq, watermark)) FROM projection_checkpoints "
    "WHERE projection LIKE 'core/%'), 0), "
    "coalesce((SELECT stream_seq FROM projection_checkpoints WHERE projection = 'core/ctl'), 0))";

}  // namespace rmm
