#include "projector/runner.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/pg.h"
#include "projector/db/migrations.h"
#include "projector/folds/decode.h"

namespace rmm::projector {
namespace {

using namespace std::chrono_literals;

constexpr auto kMaxBackoff = 5s;
constexpr auto kProgressLogInterval = 10s;

}  // namespace

Runner::Runner(ProjectorOptions options, const std::atomic<bool>& stop)
    : options_(std::move(options)), stop_(stop) {}

Runner::~Runner() {
  // Acks are fire-and-forget: push the last ones out before the connection closes.
  if (nats_ != nullptr) (void)nats_->flush(2s);  // best effort: an unsent ack is a redelivery
  sub_.reset();
  js_.reset();
  nats_.reset();
}

void Runner::sleep_interruptibly(std::chrono::milliseconds d) const {
  auto deadline = std::chrono::steady_clock::now() + d;
  while (!stop_.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(50ms, d));
  }
}

Status Runner::connect_db() {
  writer_.reset();
  db_.reset();
  auto conn = pg::connect(options_.pg_url, {.attempts = 5});
  if (!conn) return std::unexpected(conn.error());
  db_ = std::move(*conn);
  writer_ = std::make_unique<db::BatchWriter>(*db_);
  return {};
}

Status Runner::start() {
  if (auto st = connect_db(); !st) return st;
  auto report = db::apply_migrations(*db_, options_.migrations_dir);
  if (!report) return std::unexpected(report.error());
  log::info("migrations.ready", {{"applied", report->applied},
                                 {"already_applied", report->already_applied},
                                 {"dir", options_.migrations_dir.string()}});
  auto cp = writer_->read_checkpoint();
  if (!cp) return std::unexpected(cp.error());
  checkpoint_ = *cp;

  nats::ConnectOptions co;
  co.url = options_.nats_url;
  co.creds_file = options_.nats_creds;
  co.name = "rmm-projector";
  co.on_disconnected = [] { log::warn("nats.disconnected"); };
  co.on_reconnected = [] { log::info("nats.reconnected"); };
  auto conn = nats::Connection::connect(co);
  if (!conn) return std::unexpected(with_context(conn.error(), "nats-url"));
  nats_ = std::move(*conn);
  auto js = nats::JetStream::create(*nats_, {});
  if (!js) return std::unexpected(js.error());
  js_ = std::move(*js);
  if (auto st = prepare_consumer(); !st) return st;
  log::info("projector.started", {{"checkpoint", checkpoint_.value},
                                  {"stream", options_.stream},
                                  {"durable", options_.durable},
                                  {"batch_size", options_.batch_size}});
  return {};
}

Status Runner::prepare_consumer() {
  nats::PullConsumerSettings cs{
      .stream = options_.stream,
      .durable = options_.durable,
      .filter_subject = "",
      .start_after = checkpoint_,
      .max_ack_pending = std::max(4 * options_.batch_size, 1024),
      .ack_wait = 30s,
      .ack_all = true,
  };
  // A consumer whose ack floor is past our checkpoint would never redeliver what the database
  // lacks (e.g. the read models were restored from an older backup): recreate it from the
  // checkpoint. A floor behind the checkpoint is harmless: the checkpoint skips those.
  jsConsumerInfo* ci = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_GetConsumerInfo(&ci, js_->raw(), cs.stream.c_str(), cs.durable.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    std::uint64_t ack_floor = ci->AckFloor.Stream;
    std::int64_t max_ack_pending = ci->Config != nullptr ? ci->Config->MaxAckPending : 0;
    jsConsumerInfo_Destroy(ci);
    if (ack_floor > checkpoint_.value) {
      log::warn(
          "consumer.reset",
          {{"durable", cs.durable}, {"ack_floor", ack_floor}, {"checkpoint", checkpoint_.value}});
      s = js_DeleteConsumer(js_->raw(), cs.stream.c_str(), cs.durable.c_str(), nullptr, &code);
      if (s != NATS_OK)
        return std::unexpected(nats::to_error(s, "deleting consumer " + cs.durable));
    } else if (max_ack_pending > 0 && max_ack_pending <= options_.batch_size) {
      log::warn("consumer.max_ack_pending_too_small", {{"durable", cs.durable},
                                                       {"max_ack_pending", max_ack_pending},
                                                       {"batch_size", options_.batch_size}});
    }
  } else if (code != JSConsumerNotFoundErr && s != NATS_NOT_FOUND) {
    return std::unexpected(nats::to_error(s, "looking up consumer " + cs.durable));
  }
  auto sub = js_->pull_subscribe(cs);
  if (!sub) return std::unexpected(sub.error());
  sub_ = std::move(*sub);
  return {};
}

Result<db::BatchStats> Runner::write_with_retry(std::span<const BatchItem> items) {
  std::chrono::milliseconds backoff = 100ms;
  for (;;) {
    if (writer_ != nullptr) {
      auto stats = writer_->write(items);
      if (stats) return stats;
      log::error("batch.write_failed", {{"error", stats.error().message}});
    }
    if (stop_.load()) return fail("stopping with an unwritten batch (it will be redelivered)");
    sleep_interruptibly(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
    if (db_ == nullptr || !db_->is_open()) {
      if (auto st = connect_db(); !st)
        log::warn("pg.reconnect_failed", {{"error", st.error().message}});
    }
  }
}

Status Runner::run() {
  std::uint64_t applied = 0, duplicates = 0, dead = 0, batches = 0;
  auto next_progress = std::chrono::steady_clock::now() + kProgressLogInterval;
  std::chrono::milliseconds fetch_backoff = 100ms;
  while (!stop_.load()) {
    auto msgs = sub_->fetch(options_.batch_size, options_.fetch_timeout);
    if (!msgs) {
      log::warn("fetch.failed", {{"error", msgs.error().message}});
      sleep_interruptibly(fetch_backoff);
      fetch_backoff = std::min<std::chrono::milliseconds>(fetch_backoff * 2, kMaxBackoff);
      continue;
    }
    fetch_backoff = 100ms;
    if (msgs->empty()) continue;

    std::vector<BatchItem> items;
    items.reserve(msgs->size());
    nats::Message* last = nullptr;
    std::uint64_t last_seq = 0;
    int skipped = 0;
    for (auto& m : *msgs) {
      auto seq = m.stream_seq();
      if (!seq) {
        // Not a JetStream delivery: nothing to checkpoint it against.
        log::warn("message.no_metadata", {{"subject", m.subject()}});
        continue;
      }
      if (seq->value > last_seq) {
        last_seq = seq->value;
        last = &m;
      }
      if (seq->value <= checkpoint_.value) {
        ++skipped;  // applied before a crash that lost the ack
        continue;
      }
      items.push_back({*seq, decode_message(m.subject(), m.data())});
    }
    if (!items.empty()) {
      auto stats = write_with_retry(items);
      if (!stats) return std::unexpected(stats.error());
      checkpoint_ = std::max(checkpoint_, stats->checkpoint);
      applied += stats->applied;
      duplicates += stats->duplicates;
      dead += stats->dead_letters;
      if (stats->dead_letters > 0) {
        log::warn("batch.dead_letters",
                  {{"count", stats->dead_letters}, {"checkpoint", checkpoint_.value}});
      }
      log::debug("batch.applied", {{"messages", items.size()},
                                   {"applied", stats->applied},
                                   {"duplicates", stats->duplicates},
                                   {"checkpoint", checkpoint_.value}});
    }
    ++batches;
    if (last != nullptr) {
      // AckAll: acking the highest sequence acks the whole batch.
      if (auto st = last->ack(); !st) log::warn("ack.failed", {{"error", st.error().message}});
    }
    if (skipped > 0) log::debug("batch.redelivered", {{"skipped", skipped}});
    if (std::chrono::steady_clock::now() >= next_progress) {
      next_progress = std::chrono::steady_clock::now() + kProgressLogInterval;
      log::info("projector.progress", {{"checkpoint", checkpoint_.value},
                                       {"batches", batches},
                                       {"applied", applied},
                                       {"duplicates", duplicates},
                                       {"dead_letters", dead}});
    }
  }
  log::info("projector.stopping", {{"checkpoint", checkpoint_.value},
                                   {"applied", applied},
                                   {"duplicates", duplicates},
                                   {"dead_letters", dead}});
  return {};
}

}  // namespace rmm::projector
