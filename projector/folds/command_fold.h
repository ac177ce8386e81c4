// The command lifecycle events (CommandReceived ... CommandInterrupted) as changes to one row of
// `commands`, one small pure function per event type, plus the merge rule that both the in-memory
// batch and the SQL upsert follow:
//   - status only moves forward: received < started < any terminal status; between two terminal
//     statuses the first one stays (exactly one terminal event is expected);
//   - every other field is set by the first event that carries it (timestamps, exit code, ...);
//   - truncated flags are OR-ed; output chunks are kept by chunk index and concatenated in order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "events_generated.h"

namespace rmm::projector {

struct OutputChunk {
  std::int64_t chunk_index = 0;
  std::int16_t stream = 0;  // schema::OutputStream: 0 stdout, 1 stderr
  std::int64_t offset = 0;
  std::vector<std::uint8_t> data;
  bool truncated = false;
  bool operator==(const OutputChunk&) const = default;
};

struct CommandChange {
  CommandId command;
  std::string status;  // empty: no status change (CommandOutput)
  std::optional<std::string> kind, issuer, reason;
  std::optional<std::int64_t> command_stream_seq, pid, duration_ms;
  std::optional<std::int32_t> exit_code, term_signal;
  // Lifecycle timestamps (event time, Unix ns) this event sets.
  std::optional<UnixNanos> received_at, started_at, finished_at;
  bool stdout_truncated = false, stderr_truncated = false;
  std::vector<OutputChunk> chunks;
  std::int64_t last_seq = 0;  // the agent sequence of the latest event merged in
  UnixNanos updated_at = 0;   // its event time
  bool operator==(const CommandChange&) const = default;
};

// 0 unknown (no status yet), 1 received, 2 started, 3 terminal.
int command_status_rank(std::string_view status);

// True for the payload types this file folds.
bool is_command_event(schema::Payload type);

// The change a verified lifecycle event asks for, stamped with its event time `at` (the agent's
// clock, clamped: folds/event_time.h) and sequence. An error (no command id) is a dead-letter
// reason.
Result<CommandChange> command_change(const schema::Envelope& env, UnixNanos at);

// Merges `next` (a later event of the same command) into `acc` by the rules above.
void merge_command_change(CommandChange& acc, const CommandChange& next);

}  // namespace rmm::projector
