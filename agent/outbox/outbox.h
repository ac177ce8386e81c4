// The agent's durable outbox: every event is appended here, with its per-agent sequence, before it
// is published, and deleted only after JetStream acknowledged it. A RocksDB database in
// `<state dir>/outbox` with two column families, "events" (the ordered lane, keyed by sequence)
// and "meta" (last sequence, presence lane, drop counters); layout in record.h, design and options
// in README.md.
//
// Sequencing: append() assigns the next AgentSeq and writes the event and the new last sequence in
// one WriteBatch, so a sequence survives restarts and is never reused (the outbox owns the
// sequence; it replaces StateDir::next_seq).
//
// Durability: the WAL is on and not synced (sync=false). A write is in the OS page cache when
// append() returns, so a kill -9 (or any crash of the agent alone) loses nothing that append()
// returned. A power loss or kernel crash can lose the appends of the last moments (what the kernel
// had not written back, typically up to ~30 s; RocksDB drops the WAL's torn tail on recovery).
// sync=true costs one fdatasync per append (~3,400/s here, against ~174,000/s): not worth it for
// telemetry; pass AppendOptions{.sync = true} for the few events that must survive power loss
// (command results). Sequences are never reused even then: every kSeqReservation appends one
// synced write reserves the next block, and an open after an unclean shutdown in an earlier boot
// (OutboxOptions::boot_id differs) continues above the reserved block, leaving a gap where events
// were really lost rather than re-issuing numbers the server may already hold under its dedupe.
//
// Disk budget: stored bytes (key + value) are tracked in memory and recomputed at open. Past the
// budget the oldest droppable events are deleted until the total is 1/64 below it; durable events
// are never dropped (if only they remain, the outbox stays over budget, warns once, and keeps
// accepting appends). Drops are counted (persisted) until reported (append_drop_report; when:
// drop_reporter.h).
//
// Presence lane: at most one pending heartbeat, outside the ordered sequence, with its own
// monotonic counter; a newer heartbeat replaces an unsent older one. The publisher sends it ahead
// of any backlog.
//
// Concurrency: every method is thread-safe (one mutex; RocksDB calls that read or write the
// outbox's state run under it). The append hook runs on the appending thread after the write.
// Limitations: one process per directory (RocksDB's LOCK file enforces it).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/outbox/record.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/result.h"
#include "events_generated.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace rmm::agent {

struct OutboxOptions {
  // Bytes of stored keys and values the events may occupy before droppable ones are dropped.
  std::uint64_t disk_budget_bytes = 256ull * 1024 * 1024;
  // This boot of the machine (Linux: /proc/sys/kernel/random/boot_id). An unclean shutdown seen
  // in the same boot was a crash of the agent alone (the page cache kept every write); in another
  // boot, or when empty, it may have been a power loss. See Durability above.
  std::string boot_id;
};

struct AppendOptions {
  // fdatasync the WAL before returning: survives power loss, ~50x slower. For command results.
  bool sync = false;
};

// One event of the ordered lane, as read for publishing.
struct OutboxEvent {
  AgentSeq seq;
  EventClass cls = EventClass::kDurable;
  schema::Payload type = schema::Payload::NONE;
  UnixNanos occurred_at = 0;
  std::vector<std::uint8_t> bytes;  // the envelope, ready to publish
};

// The heartbeat waiting in the presence lane.
struct PendingHeartbeat {
  std::uint64_t n = 0;  // presence-lane counter: the envelope's seq, msg id "<agent>:hb:<n>"
  UnixNanos occurred_at = 0;
  std::vector<std::uint8_t> bytes;
};

// What the disk budget dropped since the last report (for the OutboxDropped event).
struct DropReport {
  std::uint64_t dropped_events = 0;  // droppable ordered-lane events (metrics)
  std::uint64_t dropped_bytes = 0;
  std::uint64_t replaced_heartbeats = 0;  // pending heartbeats replaced before they were sent
  AgentSeq oldest_dropped_seq;            // 0 when no ordered event was dropped
  AgentSeq newest_dropped_seq;
  bool empty() const { return dropped_events == 0 && replaced_heartbeats == 0; }
};

class Outbox {
 public:
  // Sequences reserved by one synced write (see Durability).
  static constexpr std::uint64_t kSeqReservation = 8192;

  // Builds the envelope for the sequence (or presence counter) the outbox assigned.
  using BuildFn = std::function<std::vector<std::uint8_t>(AgentSeq)>;
  using HeartbeatBuildFn = std::function<std::vector<std::uint8_t>(std::uint64_t n)>;

  static Result<std::unique_ptr<Outbox>> open(const std::filesystem::path& dir,
                                              OutboxOptions options, const Clock& clock);
  ~Outbox();
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  // Assigns the next sequence, calls `build` with it (under the outbox lock: keep it short) and
  // stores the event. The sequence is consumed only if the write succeeds.
  Result<AgentSeq> append(EventClass cls, schema::Payload type, const BuildFn& build,
                          AppendOptions options = {});

  // Presence lane: stores `build(n)` as the pending heartbeat, replacing an unsent one.
  Result<std::uint64_t> put_heartbeat(const HeartbeatBuildFn& build);
  std::optional<PendingHeartbeat> pending_heartbeat() const;
  // After its ack: removes the pending heartbeat if it is still heartbeat `n`.
  Status clear_heartbeat(std::uint64_t n);

  // Up to `max_count` events with a sequence above `after`, oldest first. The events are leased
  // (their sizes remembered) until remove_acked() or a drop.
  Result<std::vector<OutboxEvent>> next_unsent(AgentSeq after, std::size_t max_count);
  // One event, for a re-send; nullopt when it is gone (acked or dropped).
  Result<std::optional<OutboxEvent>> get(AgentSeq seq);
  // Deletes acknowledged events in one WriteBatch. Sequences already gone are ignored.
  Status remove_acked(std::span<const AgentSeq> seqs);

  std::uint64_t depth() const;
  std::uint64_t stored_bytes() const;
  AgentSeq last_seq() const;
  std::uint64_t last_heartbeat() const;
  // Age of the oldest event of the ordered lane by its occurred_at; zero when empty.
  std::chrono::nanoseconds oldest_unsent_age() const;
  // Returns and resets the drop counters (the reset is persisted). A crash between this call and
  // the append of an event built from them loses that report (counts, not events): the agent
  // uses append_drop_report instead.
  Result<DropReport> take_drop_report();
  // The drop counters, unchanged.
  DropReport drop_counts() const;
  // Builds the OutboxDropped event from the drop counters and appends it (durable) while resetting
  // them, in one WriteBatch: a crash keeps either the counters or the event. nullopt, and nothing
  // written, when the counters are empty.
  using DropReportBuildFn = std::function<std::vector<std::uint8_t>(AgentSeq, const DropReport&)>;
  Result<std::optional<DropReport>> append_drop_report(const DropReportBuildFn& build);

  // RocksDB's own memory (memtables, block cache, table readers), for benchmarks and diagnostics.
  std::string memory_report() const;

  // Called after every successful append or put_heartbeat (the publisher's wake-up). Replacing
  // it waits for a running call to finish, so after set_append_hook({}) none is running.
  void set_append_hook(std::function<void()> hook);

 private:
  Outbox(const Clock& clock, OutboxOptions options);
  Status load_state();
  Status recover_sequence();
  // append(), and with `take_drops` also the drop counters' reset in the same batch (their value
  // is stored there before `build` runs; nothing is written and seq 0 returned when empty).
  Result<AgentSeq> append_impl(EventClass cls, schema::Payload type, const BuildFn& build,
                               AppendOptions options, DropReport* take_drops);
  Status write_locked(rocksdb::WriteBatch& batch, bool sync);
  void enforce_budget_locked(std::vector<std::string>& warnings);
  std::string drops_value_locked() const;
  void notify_appended();
  Result<OutboxEvent> to_event(std::uint64_t seq, std::string_view value) const;

  const Clock& clock_;
  OutboxOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* events_ = nullptr;
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;

  mutable std::mutex mutex_;
  AgentSeq last_seq_;
  std::uint64_t reserved_upto_ = 0;  // durably reserved: no sequence above it was ever assigned
  std::uint64_t count_ = 0;
  std::uint64_t bytes_ = 0;
  // No live event has a sequence below this: where reads Seek to, past acked tombstones.
  mutable std::uint64_t first_live_ = 1;
  // No droppable event has a sequence below this: where the budget's scan resumes.
  std::uint64_t drop_cursor_ = 1;
  bool over_budget_warned_ = false;
  // Sizes of events handed out by next_unsent/get, so remove_acked subtracts each exactly once.
  std::map<std::uint64_t, std::uint64_t> leases_;
  std::uint64_t heartbeat_last_ = 0;
  std::optional<PendingHeartbeat> heartbeat_;
  DropReport drops_;

  std::mutex hook_mutex_;
  std::function<void()> hook_;
};

}  // namespace rmm::agent
