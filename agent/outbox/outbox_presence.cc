// The presence lane of the outbox: at most one pending heartbeat, outside the ordered sequence.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "agent/outbox/db_util.h"
#include "agent/outbox/outbox.h"
#include "common/event_codec.h"

namespace rmm::agent {

using outbox::as_slice;

Result<std::uint64_t> Outbox::put_heartbeat(const HeartbeatBuildFn& build) {
  std::uint64_t n = 0;
  {
    std::lock_guard lock(mutex_);
    n = heartbeat_last_ + 1;
    auto bytes = build(n);
    if (bytes.empty()) return fail(Error::Code::kInvalidInput, "outbox heartbeat: empty event");
    const UnixNanos now = clock_.now();
    const auto counter = outbox::encode_u64(n);
    std::string value(counter.data(), counter.size());
    value += outbox::encode_record(EventClass::kDroppable,
                                   codec::event_type_token(schema::Payload::Heartbeat), now, bytes);
    rocksdb::WriteBatch batch;
    batch.Put(meta_, as_slice(outbox::kMetaHeartbeatPending), value);
    batch.Put(meta_, as_slice(outbox::kMetaHeartbeatLast), as_slice(counter));
    const DropReport before = drops_;
    if (heartbeat_) {
      drops_.replaced_heartbeats++;
      batch.Put(meta_, as_slice(outbox::kMetaDrops), drops_value_locked());
    }
    // Synced: a reused counter would make the server drop a later heartbeat as a duplicate. One
    // fdatasync per heartbeat interval is nothing.
    if (auto st = write_locked(batch, true); !st) {
      drops_ = before;
      return std::unexpected(st.error());
    }
    heartbeat_last_ = n;
    heartbeat_ = PendingHeartbeat{n, now, std::move(bytes)};
  }
  notify_appended();
  return n;
}

std::optional<PendingHeartbeat> Outbox::pending_heartbeat() const {
  std::lock_guard lock(mutex_);
  return heartbeat_;
}

std::uint64_t Outbox::last_heartbeat() const {
  std::lock_guard lock(mutex_);
  return heartbeat_last_;
}

Status Outbox::clear_heartbeat(std::uint64_t n) {
  std::lock_guard lock(mutex_);
  if (!heartbeat_ || heartbeat_->n != n) return {};
  rocksdb::WriteBatch batch;
  batch.Delete(meta_, as_slice(outbox::kMetaHeartbeatPending));
  if (auto st = write_locked(batch, false); !st) return st;
  heartbeat_.reset();
  return {};
}

}  // namespace rmm::agent
