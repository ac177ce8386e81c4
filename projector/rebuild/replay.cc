#include "projector/rebuild/replay.h"

#include <pqxx/transaction>

#include "common/log.h"

namespace rmm::projector::rebuild {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

// Decoded batches waiting for the writer: one being written, one or two ready.
constexpr std::size_t kQueueDepth = 2;
constexpr auto kReadWait = 200ms;

}  // namespace

Replay::Replay(pqxx::connection& db, nats::Connection& nats, ReplayOptions options,
               const std::atomic<bool>& stop)
    : db_(db), nats_(nats), options_(std::move(options)), stop_(stop) {}

Replay::~Replay() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (reader_.joinable()) reader_.join();
}

Status Replay::start() {
  try {
    writer_ = std::make_unique<db::BatchWriter>(db_);
    writer_->skip_raw_metrics_before(options_.skip_raw_metrics_before);
  } catch (const std::exception& e) {
    return failf("preparing the batch writer: {}", e.what());
  }
  auto cp = writer_->read_checkpoint();
  if (!cp) return std::unexpected(cp.error());
  checkpoint_ = *cp;
  auto log = MergedLog::open(
      nats_, {.stream = options_.stream, .archive = options_.archive, .chunk = options_.batch_size},
      checkpoint_.next());
  if (!log) return std::unexpected(log.error());
  log_ = std::move(*log);
  target_ = checkpoint_.value;
  reader_ = std::thread([this] { read_loop(); });
  return {};
}

void Replay::read_loop() {
  std::vector<StreamMessage> msgs;
  StreamSeq queued_through = log_->through();
  for (;;) {
    std::uint64_t upto = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return quit_ || ready_.size() < kQueueDepth; });
      if (quit_) return;
      upto = target_;
    }
    msgs.clear();
    auto t0 = Steady::now();
    auto st = log_->next_batch(msgs, options_.batch_size, StreamSeq{upto}, kReadWait);
    auto t1 = Steady::now();
    Batch batch;
    batch.items.reserve(msgs.size());
    for (auto& m : msgs) {
      batch.items.push_back(
          {m.seq, decode_message(m.message.subject(), m.message.data(), m.stored_at)});
    }
    batch.through = log_->through();
    msgs.clear();  // frees the messages here, not on the writer's thread
    auto t2 = Steady::now();
    std::unique_lock lock(mu_);
    read_time_ += t1 - t0;
    decode_time_ += t2 - t1;
    archived_ = log_->archived();
    complete_from_ = log_->complete_from();
    if (!st) {
      read_error_ = st.error();
      cv_.notify_all();
      return;
    }
    if (!batch.items.empty() || batch.through > queued_through) {
      // An empty batch moves the checkpoint over what no longer exists.
      queued_through = batch.through;
      ready_.push_back(std::move(batch));
      cv_.notify_all();
    } else if (log_->holding()) {
      // At the bound: nothing to read until the owner raises the target.
      cv_.wait(lock, [&] { return quit_ || target_ > upto; });
      if (quit_) return;
    }
  }
}

Status Replay::run_until(StreamSeq target) {
  {
    std::lock_guard lock(mu_);
    target_ = std::max(target_, target.value);
  }
  cv_.notify_all();
  auto last_progress = Steady::now();
  while (checkpoint_ < target) {
    if (stop_.load()) return fail("stopped by a signal");
    Batch batch;
    {
      std::unique_lock lock(mu_);
      auto t0 = Steady::now();
      cv_.wait_for(lock, kReadWait, [&] { return !ready_.empty() || read_error_.has_value(); });
      stats_.write_wait += Steady::now() - t0;
      stats_.read = read_time_;
      stats_.decode = decode_time_;
      stats_.archived = archived_;
      stats_.complete_from = complete_from_;
      if (ready_.empty()) {
        if (read_error_) return std::unexpected(*read_error_);
        if (Steady::now() - last_progress > options_.stall_timeout) {
          return failf("no message past sequence {} within {} ms (target {})", checkpoint_.value,
                       options_.stall_timeout.count(), target.value);
        }
        continue;
      }
      batch = std::move(ready_.front());
      ready_.pop_front();
    }
    cv_.notify_all();
    auto t0 = Steady::now();
    if (!batch.items.empty()) {
      auto written = writer_->write(batch.items);
      if (!written) return std::unexpected(written.error());
      checkpoint_ = std::max(checkpoint_, written->checkpoint);
      stats_.messages += batch.items.size();
      stats_.applied += static_cast<std::uint64_t>(written->applied);
      stats_.duplicates += static_cast<std::uint64_t>(written->duplicates);
      stats_.dead_letters += static_cast<std::uint64_t>(written->dead_letters);
      ++stats_.batches;
    }
    if (batch.through > checkpoint_) {
      if (auto st = advance_checkpoint(batch.through); !st) return st;
      checkpoint_ = batch.through;
    }
    stats_.write += Steady::now() - t0;
    last_progress = Steady::now();
  }
  {
    std::lock_guard lock(mu_);
    stats_.archived = archived_;
    stats_.complete_from = complete_from_;
  }
  return {};
}

Status Replay::advance_checkpoint(StreamSeq seq) {
  try {
    pqxx::work tx(db_);
    tx.exec_params0(
        "INSERT INTO projection_checkpoints (projection, stream_seq, updated_at) "
        "VALUES ($1, $2, now()) ON CONFLICT (projection) DO UPDATE SET stream_seq = "
        "GREATEST(projection_checkpoints.stream_seq, EXCLUDED.stream_seq), updated_at = now()",
        std::string(db::kCoreProjection), static_cast<std::int64_t>(seq.value));
    tx.commit();
    return {};
  } catch (const std::exception& e) {
    return failf("moving the checkpoint to {}: {}", seq.value, e.what());
  }
}

}  // namespace rmm::projector::rebuild
