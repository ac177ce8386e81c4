#include "agent/commands/command_store.h"

#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cstring>

namespace rmm::agent {
namespace {

constexpr std::uint8_t kFormat = 1;
constexpr std::uint8_t kFormatWithProcess = 2;
constexpr std::size_t kHeaderBytes = 1 + 1 + 8 + 8 + 1;
constexpr std::size_t kProcessBytes = 3 * 8;
constexpr std::size_t kKiB = 1024;

Error db_error(const rocksdb::Status& s, std::string_view what) {
  return Error{Error::Code::kGeneric, fmt::format("command store {}: {}", what, s.ToString())};
}

rocksdb::Slice key_of(const CommandId& id) {
  return {reinterpret_cast<const char*>(id.bytes().data()), id.bytes().size()};
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::uint64_t get_u64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string encode(const CommandRecord& r) {
  std::string out;
  out.reserve(kHeaderBytes + r.boot_id.size() + kProcessBytes + r.envelope.size());
  out.push_back(static_cast<char>(r.process ? kFormatWithProcess : kFormat));
  out.push_back(static_cast<char>(r.state));
  put_u64(out, r.arrival);
  put_u64(out, static_cast<std::uint64_t>(r.updated_at));
  const auto boot = r.boot_id.substr(0, 255);
  out.push_back(static_cast<char>(boot.size()));
  out += boot;
  if (r.process) {
    put_u64(out, r.process->group);
    put_u64(out, r.process->leader_start);
    put_u64(out, r.process->session);
  }
  out.append(reinterpret_cast<const char*>(r.envelope.data()), r.envelope.size());
  return out;
}

Result<CommandRecord> decode(std::string_view key, std::string_view value) {
  if (key.size() != 16 || value.size() < kHeaderBytes ||
      (value[0] != kFormat && value[0] != kFormatWithProcess)) {
    return fail("command store: unreadable record");
  }
  CommandRecord r;
  UuidBytes id{};
  std::memcpy(id.data(), key.data(), id.size());
  r.id = CommandId(id);
  auto state = static_cast<std::uint8_t>(value[1]);
  if (state < 1 || state > 3) return fail("command store: unknown state");
  r.state = static_cast<CommandState>(state);
  r.arrival = get_u64(value.data() + 2);
  r.updated_at = static_cast<UnixNanos>(get_u64(value.data() + 10));
  std::size_t boot_len = static_cast<unsigned char>(value[18]);
  if (value.size() < kHeaderBytes + boot_len) return fail("command store: truncated record");
  r.boot_id.assign(value.substr(kHeaderBytes, boot_len));
  auto rest = value.substr(kHeaderBytes + boot_len);
  if (value[0] == kFormatWithProcess) {
    if (rest.size() < kProcessBytes) return fail("command store: truncated record");
    r.process = platform::ProcessGroupRecord{.group = get_u64(rest.data()),
                                             .leader_start = get_u64(rest.data() + 8),
                                             .session = get_u64(rest.data() + 16)};
    rest.remove_prefix(kProcessBytes);
  }
  r.envelope.assign(rest.begin(), rest.end());
  return r;
}

rocksdb::Options store_options() {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.max_open_files = 16;
  o.max_background_jobs = 1;
  o.write_buffer_size = 256 * kKiB;
  o.max_write_buffer_number = 2;
  o.keep_log_file_num = 2;
  o.max_log_file_size = 256 * kKiB;
  o.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  o.stats_dump_period_sec = 0;
  o.stats_persist_period_sec = 0;
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(256 * kKiB);
  table.cache_index_and_filter_blocks = true;
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return o;
}

rocksdb::WriteOptions synced() {
  rocksdb::WriteOptions w;
  w.sync = true;
  return w;
}

}  // namespace

CommandStore::CommandStore(const Clock& clock, CommandStoreOptions options)
    : clock_(clock), options_(options) {}

CommandStore::~CommandStore() {
  if (db_) (void)db_->Close();  // best effort: every write was synced already
}

Result<std::unique_ptr<CommandStore>> CommandStore::open(const std::filesystem::path& dir,
                                                         const Clock& clock,
                                                         CommandStoreOptions options) {
  std::unique_ptr<CommandStore> store(new CommandStore(clock, options));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return failf("creating {}: {}", dir.string(), ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(store_options(), dir.string(), &raw);
  if (!s.ok()) return std::unexpected(db_error(s, "open " + dir.string()));
  store->db_.reset(raw);
  if (auto p = store->prune(); !p) return std::unexpected(p.error());
  return store;
}

Status CommandStore::prune() {
  const UnixNanos horizon =
      clock_.now() -
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.retention).count();
  std::vector<std::pair<UnixNanos, std::string>> finished;  // (updated_at, key)
  rocksdb::WriteBatch batch;
  std::size_t count = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto record = decode(it->key().ToStringView(), it->value().ToStringView());
    if (!record) {
      batch.Delete(it->key());  // unreadable: nothing can be resumed from it
      continue;
    }
    last_arrival_ = std::max(last_arrival_, record->arrival);
    if (record->state == CommandState::kFinished) {
      if (record->updated_at < horizon) {
        batch.Delete(it->key());
        continue;
      }
      finished.emplace_back(record->updated_at, it->key().ToString());
    }
    ++count;
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "scan"));
  if (count > options_.max_records) {
    std::sort(finished.begin(), finished.end());
    for (std::size_t i = 0; i < finished.size() && count > options_.max_records; ++i, --count) {
      batch.Delete(finished[i].second);
    }
  }
  count_ = count;
  if (batch.Count() == 0) return {};
  auto s = db_->Write(synced(), &batch);
  if (!s.ok()) return std::unexpected(db_error(s, "prune"));
  return {};
}

Result<std::optional<CommandRecord>> CommandStore::find(const CommandId& id) const {
  std::string value;
  auto s = db_->Get(rocksdb::ReadOptions(), key_of(id), &value);
  if (s.IsNotFound()) return std::optional<CommandRecord>();
  if (!s.ok()) return std::unexpected(db_error(s, "get"));
  auto r = decode(key_of(id).ToStringView(), value);
  if (!r) return std::unexpected(r.error());
  return std::optional<CommandRecord>(std::move(*r));
}

Status CommandStore::put(const CommandRecord& record) {
  auto s = db_->Put(synced(), key_of(record.id), encode(record));
  if (!s.ok()) return std::unexpected(db_error(s, "put"));
  return {};
}

Result<std::uint64_t> CommandStore::record_queued(const CommandId& id,
                                                  std::span<const std::uint8_t> envelope) {
  std::lock_guard lock(mutex_);
  CommandRecord r{.id = id,
                  .state = CommandState::kQueued,
                  .arrival = last_arrival_ + 1,
                  .updated_at = clock_.now(),
                  .boot_id = {},
                  .process = std::nullopt,
                  .envelope = {envelope.begin(), envelope.end()}};
  if (auto s = put(r); !s) return std::unexpected(s.error());
  last_arrival_ = r.arrival;
  ++count_;
  return r.arrival;
}

Status CommandStore::record_finished(const CommandId& id) {
  std::lock_guard lock(mutex_);
  CommandRecord r{.id = id,
                  .state = CommandState::kFinished,
                  .arrival = last_arrival_ + 1,
                  .updated_at = clock_.now(),
                  .boot_id = {},
                  .process = std::nullopt,
                  .envelope = {}};
  if (auto s = put(r); !s) return s;
  last_arrival_ = r.arrival;
  ++count_;
  return {};
}

Status CommandStore::mark_running(const CommandId& id, std::string_view boot_id,
                                  std::optional<platform::ProcessGroupRecord> process) {
  auto found = find(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail(Error::Code::kNotFound, "command store: unknown command " + id.str());
  CommandRecord r = std::move(**found);
  r.state = CommandState::kRunning;
  r.updated_at = clock_.now();
  r.boot_id = boot_id;
  r.process = process;
  return put(r);
}

Status CommandStore::mark_finished(const CommandId& id) {
  auto found = find(id);
  if (!found) return std::unexpected(found.error());
  if (!*found) return fail(Error::Code::kNotFound, "command store: unknown command " + id.str());
  CommandRecord r = std::move(**found);
  r.state = CommandState::kFinished;
  r.updated_at = clock_.now();
  r.envelope.clear();
  r.process.reset();
  return put(r);
}

Result<std::vector<CommandRecord>> CommandStore::unfinished() const {
  std::vector<CommandRecord> out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto record = decode(it->key().ToStringView(), it->value().ToStringView());
    if (record && record->state != CommandState::kFinished) out.push_back(std::move(*record));
  }
  if (!it->status().ok()) return std::unexpected(db_error(it->status(), "scan"));
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.arrival < b.arrival; });
  return out;
}

std::size_t CommandStore::size() const {
  std::lock_guard lock(mutex_);
  return count_;
}

}  // namespace rmm::agent
