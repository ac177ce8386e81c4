// The disk budget of the outbox: dropping the oldest droppable events, and the drop counters.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "agent/outbox/db_util.h"
#include "agent/outbox/outbox.h"
#include "common/log.h"

namespace rmm::agent {

using outbox::as_slice;

std::string Outbox::drops_value_locked() const {
  const std::uint64_t d[] = {drops_.dropped_events, drops_.dropped_bytes,
                             drops_.replaced_heartbeats, drops_.oldest_dropped_seq.value,
                             drops_.newest_dropped_seq.value};
  return outbox::encode_u64s(d);
}

// Deletes the oldest droppable events until the stored bytes are 1/64 below the budget (so that
// crossing it does not cost a scan per append). The scan starts at drop_cursor_, below which only
// durable events remain, so each stored event is examined at most once over the outbox's life.
void Outbox::enforce_budget_locked(std::vector<std::string>& warnings) {
  const std::uint64_t budget = options_.disk_budget_bytes;
  const std::uint64_t target = budget - budget / 64;
  const auto lower = outbox::seq_key(std::max(drop_cursor_, first_live_));
  const rocksdb::Slice lower_slice = as_slice(lower);  // must outlive the iterator
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));

  rocksdb::WriteBatch batch;
  std::vector<std::uint64_t> dropped;
  DropReport before = drops_;
  std::uint64_t bytes = bytes_;
  for (it->Seek(lower_slice); it->Valid() && bytes > target; it->Next()) {
    auto rec = outbox::decode_record(it->value().ToStringView());
    if (!rec || rec->cls != EventClass::kDroppable) continue;
    const auto seq = outbox::seq_from_key(it->key().ToStringView()).value_or(0);
    const std::uint64_t size = it->key().size() + it->value().size();
    batch.Delete(events_, it->key());
    bytes -= std::min(bytes, size);
    dropped.push_back(seq);
    drops_.dropped_events++;
    drops_.dropped_bytes += size;
    if (drops_.oldest_dropped_seq.value == 0) drops_.oldest_dropped_seq = AgentSeq{seq};
    drops_.newest_dropped_seq = AgentSeq{seq};
  }
  if (!it->status().ok()) {
    drops_ = before;
    warnings.push_back("scan failed: " + it->status().ToString());
    return;
  }
  const std::uint64_t cursor =
      it->Valid() ? outbox::seq_from_key(it->key().ToStringView()).value_or(drop_cursor_)
                  : last_seq_.value + 1;
  if (!dropped.empty()) {
    batch.Put(meta_, as_slice(outbox::kMetaDrops), drops_value_locked());
    if (auto st = write_locked(batch, false); !st) {
      drops_ = before;
      warnings.push_back(st.error().message);
      return;
    }
    for (auto seq : dropped) leases_.erase(seq);
    count_ -= std::min<std::uint64_t>(count_, dropped.size());
    bytes_ = bytes;
  }
  drop_cursor_ = cursor;
  if (bytes_ > budget && !over_budget_warned_) {
    over_budget_warned_ = true;
    warnings.push_back(fmt::format(
        "{} stored bytes exceed the {} byte budget and only durable events remain: keeping them",
        bytes_, budget));
  }
}

DropReport Outbox::drop_counts() const {
  std::lock_guard lock(mutex_);
  return drops_;
}

Result<DropReport> Outbox::take_drop_report() {
  std::lock_guard lock(mutex_);
  if (drops_.empty()) return DropReport{};
  rocksdb::WriteBatch batch;
  batch.Delete(meta_, as_slice(outbox::kMetaDrops));
  if (auto st = write_locked(batch, false); !st) return std::unexpected(st.error());
  return std::exchange(drops_, DropReport{});
}

}  // namespace rmm::agent
