#include "agent/outbox/outbox.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "agent/outbox/db_util.h"
#include "agent/outbox/options.h"
#include "common/event_codec.h"
#include "common/files.h"
#include "common/log.h"

namespace rmm::agent {

using outbox::as_slice;
using outbox::db_error;
using outbox::seq_from_key;
using outbox::seq_key;

Outbox::Outbox(const Clock& clock, OutboxOptions options)
    : clock_(clock), options_(std::move(options)) {}

Result<std::unique_ptr<Outbox>> Outbox::open(const std::filesystem::path& dir,
                                             OutboxOptions options, const Clock& clock) {
  if (auto st = files::ensure_dir(dir, 0700); !st) return std::unexpected(st.error());
  std::unique_ptr<Outbox> box(new Outbox(clock, std::move(options)));
  auto opts = outbox::small_footprint_options();
  std::vector<rocksdb::ColumnFamilyDescriptor> families{
      {rocksdb::kDefaultColumnFamilyName, opts.meta},
      {std::string(outbox::kEventsFamily), opts.events},
      {std::string(outbox::kMetaFamily), opts.meta}};
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(opts.db, dir.string(), families, &box->handles_, &db);
  if (!s.ok()) return std::unexpected(db_error(s, "open " + dir.string()));
  box->db_.reset(db);
  box->events_ = box->handles_[1];
  box->meta_ = box->handles_[2];
  if (auto st = box->load_state(); !st) return std::unexpected(st.error());
  if (auto st = box->recover_sequence(); !st) return std::unexpected(st.error());
  log::info("outbox.opened", {{"dir", dir.string()},
                              {"events", box->count_},
                              {"bytes", box->bytes_},
                              {"last_seq", box->last_seq_.value}});
  return box;
}

Outbox::~Outbox() {
  if (!db_) return;
  // A clean close: everything synced, then the marker that lets the next open trust last_seq.
  auto s = db_->SyncWAL();
  if (s.ok()) {
    s = db_->Put(outbox::append_write_options(true), meta_, as_slice(outbox::kMetaCleanClose),
                 options_.boot_id);
  }
  if (!s.ok()) log::warn("outbox.close_unclean", {{"error", s.ToString()}});
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
  handles_.clear();
  db_->Close().PermitUncheckedError();  // nothing left to do about a failed close
}

Status Outbox::load_state() {
  std::string v;
  auto read_u64 = [&](std::string_view key) -> std::uint64_t {
    if (!db_->Get({}, meta_, as_slice(key), &v).ok()) return 0;
    return outbox::decode_u64(v).value_or(0);
  };
  last_seq_ = AgentSeq{read_u64(outbox::kMetaLastSeq)};
  reserved_upto_ = read_u64(outbox::kMetaSeqReserved);
  heartbeat_last_ = read_u64(outbox::kMetaHeartbeatLast);
  if (db_->Get({}, meta_, as_slice(outbox::kMetaHeartbeatPending), &v).ok() && v.size() > 8) {
    auto rec = outbox::decode_record(std::string_view(v).substr(8));
    if (rec) {
      heartbeat_ = PendingHeartbeat{*outbox::decode_u64(std::string_view(v).substr(0, 8)),
                                    rec->occurred_at,
                                    {rec->bytes.begin(), rec->bytes.end()}};
    }
  }
  if (db_->Get({}, meta_, as_slice(outbox::kMetaDrops), &v).ok()) {
    std::uint64_t d[5];
    outbox::decode_u64s(v, d);
    drops_ = DropReport{d[0], d[1], d[2], AgentSeq{d[3]}, AgentSeq{d[4]}};
  }

  // Count and size the stored events (bounded by the disk budget); not through the block cache.
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  std::uint64_t first = 0, last = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto seq = seq_from_key(it->key().ToStringView());
    if (!seq) return failf("outbox: malformed event key of {} bytes", it->key().size());
    if (first == 0) first = *seq;
    last = *seq;
    ++count_;
    bytes_ += it->key().size() + it->value().size();
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "scan"));
  last_seq_ = std::max(last_seq_, AgentSeq{last});
  first_live_ = first != 0 ? first : last_seq_.value + 1;
  drop_cursor_ = first_live_;
  return {};
}

Status Outbox::recover_sequence() {
  std::string clean, boot;
  const bool was_clean = db_->Get({}, meta_, as_slice(outbox::kMetaCleanClose), &clean).ok();
  const bool same_boot = !options_.boot_id.empty() &&
                         db_->Get({}, meta_, as_slice(outbox::kMetaBootId), &boot).ok() &&
                         boot == options_.boot_id;
  if (!was_clean && !same_boot && reserved_upto_ > last_seq_.value) {
    // Possibly a power loss: appends after the last synced write may be gone, but they may have
    // been published. Continue above every sequence that could have been handed out.
    log::warn("outbox.sequence_skipped", {{"after", last_seq_.value},
                                          {"to", reserved_upto_},
                                          {"reason", "unclean shutdown in an earlier boot"}});
    last_seq_ = AgentSeq{reserved_upto_};
  }
  reserved_upto_ = std::max(reserved_upto_, last_seq_.value);
  rocksdb::WriteBatch batch;
  batch.Delete(meta_, as_slice(outbox::kMetaCleanClose));
  batch.Put(meta_, as_slice(outbox::kMetaBootId), options_.boot_id);
  batch.Put(meta_, as_slice(outbox::kMetaLastSeq), as_slice(outbox::encode_u64(last_seq_.value)));
  batch.Put(meta_, as_slice(outbox::kMetaSeqReserved),
            as_slice(outbox::encode_u64(reserved_upto_)));
  return write_locked(batch, /*sync=*/true);
}

Status Outbox::write_locked(rocksdb::WriteBatch& batch, bool sync) {
  auto s = db_->Write(outbox::append_write_options(sync), &batch);
  if (!s.ok()) return std::unexpected(db_error(s, "write"));
  return {};
}

Result<AgentSeq> Outbox::append(EventClass cls, schema::Payload type, const BuildFn& build,
                                AppendOptions options) {
  return append_impl(cls, type, build, options, nullptr);
}

Result<std::optional<DropReport>> Outbox::append_drop_report(const DropReportBuildFn& build) {
  DropReport taken;
  auto seq = append_impl(
      EventClass::kDurable, schema::Payload::OutboxDropped,
      [&](AgentSeq s) { return build(s, taken); }, {}, &taken);
  if (!seq) return std::unexpected(seq.error());
  if (seq->value == 0) return std::optional<DropReport>();
  return std::optional<DropReport>(taken);
}

Result<AgentSeq> Outbox::append_impl(EventClass cls, schema::Payload type, const BuildFn& build,
                                     AppendOptions options, DropReport* take_drops) {
  const auto token = codec::event_type_token(type);
  if (token.empty()) return fail(Error::Code::kInvalidInput, "outbox append: unknown event type");
  std::vector<std::string> warnings;
  AgentSeq seq;
  {
    std::lock_guard lock(mutex_);
    if (take_drops != nullptr) {
      if (drops_.empty()) return AgentSeq{};
      *take_drops = drops_;
    }
    seq = last_seq_.next();
    const auto bytes = build(seq);
    if (bytes.empty()) return fail(Error::Code::kInvalidInput, "outbox append: empty event");
    const auto value = outbox::encode_record(cls, token, clock_.now(), bytes);
    const auto key = seq_key(seq.value);
    rocksdb::WriteBatch batch;
    batch.Put(events_, as_slice(key), value);
    batch.Put(meta_, as_slice(outbox::kMetaLastSeq), as_slice(key));
    if (take_drops != nullptr) batch.Delete(meta_, as_slice(outbox::kMetaDrops));
    bool sync = options.sync;
    std::uint64_t reserved = reserved_upto_;
    if (seq.value > reserved_upto_) {
      reserved = seq.value + kSeqReservation - 1;
      batch.Put(meta_, as_slice(outbox::kMetaSeqReserved), as_slice(outbox::encode_u64(reserved)));
      sync = true;  // the reservation must be on disk before any sequence of it leaves
    }
    if (auto st = write_locked(batch, sync); !st) return std::unexpected(st.error());
    last_seq_ = seq;
    reserved_upto_ = reserved;
    if (take_drops != nullptr) drops_ = DropReport{};
    ++count_;
    bytes_ += key.size() + value.size();
    if (bytes_ > options_.disk_budget_bytes) enforce_budget_locked(warnings);
  }
  for (const auto& w : warnings) log::warn("outbox.over_budget", {{"detail", w}});
  notify_appended();
  return seq;
}

Result<OutboxEvent> Outbox::to_event(std::uint64_t seq, std::string_view value) const {
  auto rec = outbox::decode_record(value);
  if (!rec) return std::unexpected(rec.error());
  auto type = codec::payload_for_token(rec->subject_token);
  if (!type) return failf("outbox event {} has unknown type '{}'", seq, rec->subject_token);
  return OutboxEvent{
      AgentSeq{seq}, rec->cls, *type, rec->occurred_at, {rec->bytes.begin(), rec->bytes.end()}};
}

Result<std::vector<OutboxEvent>> Outbox::next_unsent(AgentSeq after, std::size_t max_count) {
  std::vector<OutboxEvent> out;
  std::lock_guard lock(mutex_);
  const std::uint64_t start = std::max(after.value + 1, first_live_);
  const auto lower = seq_key(start);
  const rocksdb::Slice lower_slice = as_slice(lower);  // must outlive the iterator
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  rocksdb::WriteBatch corrupt;
  std::uint64_t first_found = 0;
  for (it->Seek(lower_slice); it->Valid() && out.size() < max_count; it->Next()) {
    const auto seq = seq_from_key(it->key().ToStringView()).value_or(0);
    if (first_found == 0) first_found = seq;
    auto ev = to_event(seq, it->value().ToStringView());
    if (!ev) {
      // Unpublishable forever: removing it is the only way the queue can move on.
      log::error("outbox.corrupt_event", {{"seq", seq}, {"error", ev.error().message}});
      corrupt.Delete(events_, it->key());
      bytes_ -= std::min(bytes_, it->key().size() + it->value().size());
      count_ -= std::min<std::uint64_t>(count_, 1);
      continue;
    }
    leases_[seq] = it->key().size() + it->value().size();
    out.push_back(std::move(*ev));
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "read"));
  if (corrupt.Count() > 0) {
    if (auto st = write_locked(corrupt, false); !st) return std::unexpected(st.error());
  }
  if (start == first_live_) first_live_ = first_found != 0 ? first_found : last_seq_.value + 1;
  return out;
}

Result<std::optional<OutboxEvent>> Outbox::get(AgentSeq seq) {
  std::lock_guard lock(mutex_);
  std::string value;
  const auto key = seq_key(seq.value);
  auto s = db_->Get({}, events_, as_slice(key), &value);
  if (s.IsNotFound()) return std::optional<OutboxEvent>{};
  if (!s.ok()) return std::unexpected(db_error(s, "get"));
  auto ev = to_event(seq.value, value);
  if (!ev) return std::unexpected(ev.error());
  leases_[seq.value] = key.size() + value.size();
  return std::optional<OutboxEvent>(std::move(*ev));
}

Status Outbox::remove_acked(std::span<const AgentSeq> seqs) {
  if (seqs.empty()) return {};
  std::lock_guard lock(mutex_);
  rocksdb::WriteBatch batch;
  std::uint64_t removed = 0, removed_bytes = 0;
  std::string value;
  for (auto seq : seqs) {
    const auto key = seq_key(seq.value);
    if (auto l = leases_.find(seq.value); l != leases_.end()) {
      removed_bytes += l->second;
      leases_.erase(l);
    } else if (db_->Get({}, events_, as_slice(key), &value).ok()) {
      removed_bytes += key.size() + value.size();  // never leased: size it now (rare)
    } else {
      continue;  // already gone: acked twice, or dropped by the budget while in flight
    }
    ++removed;
    batch.Delete(events_, as_slice(key));
  }
  if (removed == 0) return {};
  if (auto st = write_locked(batch, false); !st) return st;
  count_ -= std::min(count_, removed);
  bytes_ -= std::min(bytes_, removed_bytes);
  if (bytes_ <= options_.disk_budget_bytes) over_budget_warned_ = false;
  return {};
}

std::uint64_t Outbox::depth() const {
  std::lock_guard lock(mutex_);
  return count_;
}

std::uint64_t Outbox::stored_bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

AgentSeq Outbox::last_seq() const {
  std::lock_guard lock(mutex_);
  return last_seq_;
}

std::chrono::nanoseconds Outbox::oldest_unsent_age() const {
  std::lock_guard lock(mutex_);
  if (count_ == 0) return {};
  const auto lower = seq_key(first_live_);
  const rocksdb::Slice lower_slice = as_slice(lower);
  rocksdb::ReadOptions ro;
  ro.iterate_lower_bound = &lower_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, events_));
  it->Seek(lower_slice);
  if (!it->Valid()) return {};
  first_live_ = seq_from_key(it->key().ToStringView()).value_or(first_live_);
  auto rec = outbox::decode_record(it->value().ToStringView());
  if (!rec) return {};
  return std::chrono::nanoseconds(std::max<UnixNanos>(0, clock_.now() - rec->occurred_at));
}

std::string Outbox::memory_report() const {
  std::string out;
  for (const char* p : {"rocksdb.cur-size-all-mem-tables", "rocksdb.block-cache-usage",
                        "rocksdb.block-cache-pinned-usage", "rocksdb.estimate-table-readers-mem",
                        "rocksdb.num-live-versions", "rocksdb.total-sst-files-size"}) {
    std::uint64_t total = 0, v = 0;
    for (auto* h : {events_, meta_}) {
      if (db_->GetIntProperty(h, p, &v)) total += v;
    }
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", std::string_view(p).substr(8), total);
  }
  return out;
}

void Outbox::set_append_hook(std::function<void()> hook) {
  std::lock_guard lock(hook_mutex_);
  hook_ = std::move(hook);
}

void Outbox::notify_appended() {
  std::lock_guard lock(hook_mutex_);
  if (hook_) hook_();
}

}  // namespace rmm::agent
