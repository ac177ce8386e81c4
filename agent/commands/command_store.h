// What the agent knows about every command it has received: the exactly-once record. A small
// RocksDB database in `<state dir>/commands` (separate from the outbox so neither owns the
// other's layout), keyed by command id. A command is recorded here, synced, before it is acked to
// JetStream and before it starts, so:
// - a redelivered command whose id is known is acked and not run again (its outcome stands);
// - a command queued (acked, not started) when the agent stopped is still here with its envelope
//   and runs after the restart, in arrival order;
// - a command recorded as running when the agent died is reported interrupted after the restart,
//   once what is left of its process group (recorded with it) has been killed.
//
// Value: [format][state][arrival u64][updated_at_ns i64][boot id length u8][boot id]
//        format 2 only: [process group u64][leader start u64][session u64]
//        [envelope bytes: until finished]; integers big-endian. Format 2 is written only while a
//        program runs, so the records kept for exactly-once stay readable by older builds.
// Finished records are kept for `retention` (longer than RMM_COMMANDS' 30-day max_age, so a
// consumer reset cannot re-run anything) and at most `max_records`, oldest first, pruned at open.
//
// Durability: every write is synced (WAL fdatasync): commands are rare and each state change must
// survive a power loss as well as a kill -9.
// Concurrency: thread-safe (RocksDB is; the arrival counter is under a mutex).
// Limitations: one process per directory (RocksDB's LOCK file).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/platform/process.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"

namespace rocksdb {
class DB;
}

namespace rmm::agent {

enum class CommandState : std::uint8_t { kQueued = 1, kRunning = 2, kFinished = 3 };

struct CommandRecord {
  CommandId id;
  CommandState state = CommandState::kQueued;
  std::uint64_t arrival = 0;  // order of arrival, from 1
  UnixNanos updated_at = 0;
  std::string boot_id;  // the machine's boot when it started running
  // The running program's process group (a program, not a built-in action), until finished.
  std::optional<platform::ProcessGroupRecord> process;
  std::vector<std::uint8_t> envelope;  // the CommandEnvelope, until finished
};

struct CommandStoreOptions {
  std::chrono::hours retention{24 * 40};
  std::size_t max_records = 20'000;
};

class CommandStore {
 public:
  static Result<std::unique_ptr<CommandStore>> open(const std::filesystem::path& dir,
                                                    const Clock& clock,
                                                    CommandStoreOptions options = {});
  ~CommandStore();
  CommandStore(const CommandStore&) = delete;
  CommandStore& operator=(const CommandStore&) = delete;

  // nullopt when the id was never recorded (or its record was pruned).
  Result<std::optional<CommandRecord>> find(const CommandId& id) const;
  // Records a new command as queued, with its envelope (kept until it finishes, so a restart can
  // resume it or tell what it was); returns its arrival number.
  Result<std::uint64_t> record_queued(const CommandId& id, std::span<const std::uint8_t> envelope);
  // Records a command that is finished at once (rejected, expired, a duplicate id's outcome).
  Status record_finished(const CommandId& id);
  // Before the command starts: running, in this boot; for a program, with its process group
  // (created held, so nothing has run yet when this is on disk).
  Status mark_running(const CommandId& id, std::string_view boot_id,
                      std::optional<platform::ProcessGroupRecord> process = std::nullopt);
  Status mark_finished(const CommandId& id);

  // Every record not finished, in arrival order (what a restart must resume or report).
  Result<std::vector<CommandRecord>> unfinished() const;
  std::size_t size() const;

 private:
  CommandStore(const Clock& clock, CommandStoreOptions options);
  Status put(const CommandRecord& record);
  Status prune();

  const Clock& clock_;
  CommandStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  mutable std::mutex mutex_;
  std::uint64_t last_arrival_ = 0;
  std::size_t count_ = 0;
};

}  // namespace rmm::agent
