#include "projector/runner.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "common/jetstream_reply.h"
#include "common/log.h"
#include "common/pg.h"
#include "projector/db/migrations.h"
#include "projector/db/projection_lock.h"
#include "projector/folds/decode.h"
#include "projector/loss_recovery.h"
#include "projector/stream_state.h"
#include "projector/upkeep.h"

namespace rmm::projector {
namespace {

using namespace std::chrono_literals;

constexpr auto kMaxBackoff = 5s;
constexpr auto kProgressLogInterval = 10s;
// A standby repeats who holds the projection at most this often.
constexpr auto kStandbyLogInterval = 60s;
// How long a proven-deleted range waits for the control archive to catch up before the gap is
// retried (with the refused-gap backoff); also what it adds to the shutdown latency.
constexpr auto kArchiveCatchUpWait = 5s;
using Steady = std::chrono::steady_clock;

}  // namespace

FetchAhead::FetchAhead(nats::PullSubscription& sub, int batch, std::chrono::milliseconds timeout,
                       std::size_t depth)
    : sub_(sub), batch_(batch), timeout_(timeout), depth_(std::max<std::size_t>(depth, 1)) {
  thread_ = std::thread([this] { loop(); });
}

FetchAhead::~FetchAhead() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void FetchAhead::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return quit_ || ready_.size() < depth_; });
      if (quit_) return;
    }
    const auto t0 = Steady::now();
    auto msgs = sub_.fetch(batch_, timeout_);
    const auto t1 = Steady::now();
    Fetched fetched;
    if (!msgs) {
      fetched.error = msgs.error();
    } else {
      fetched.items.reserve(msgs->size());
      for (auto& m : *msgs) {
        // The reply subject carries the stream sequence and timestamp (no allocation).
        const char* reply = natsMsg_GetReply(m.raw());
        auto delivery = nats::parse_delivery_reply(reply != nullptr ? reply : "");
        if (!delivery) {
          log::warn("message.no_metadata", {{"subject", m.subject()}});
          continue;
        }
        auto decoded = decode_message(m.subject(), m.data(), delivery->stream_time);
        fetched.items.push_back({delivery->stream_seq, std::move(m), std::move(decoded)});
      }
    }
    const auto t2 = Steady::now();
    std::lock_guard lock(mu_);
    fetch_time_ += t1 - t0;
    decode_time_ += t2 - t1;
    const bool failed = fetched.error.has_value();
    if (failed || !fetched.items.empty()) {
      ready_.push_back(std::move(fetched));
      cv_.notify_all();
    }
    if (failed) return;  // the owner backs off and starts a new reader
  }
}

std::optional<Fetched> FetchAhead::take(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, wait, [&] { return !ready_.empty(); })) return std::nullopt;
  Fetched f = std::move(ready_.front());
  ready_.pop_front();
  cv_.notify_all();
  return f;
}

std::optional<Fetched> FetchAhead::try_take_ok() {
  std::lock_guard lock(mu_);
  if (ready_.empty() || ready_.front().error) return std::nullopt;
  Fetched f = std::move(ready_.front());
  ready_.pop_front();
  cv_.notify_all();
  return f;
}

std::pair<Steady::duration, Steady::duration> FetchAhead::times() {
  std::lock_guard lock(mu_);
  return {fetch_time_, decode_time_};
}

Runner::Runner(ProjectorOptions options, const std::atomic<bool>& stop)
    : options_(std::move(options)),
      stop_(stop),
      application_name_(db::projector_application_name()),
      status_(options_.stream) {}

Runner::~Runner() {
  ops_.reset();
  fetch_ahead_.reset();  // reads sub_
  ticker_.reset();       // its thread publishes on nats_
  // Acks are fire-and-forget: push the last ones out before the connection closes.
  if (nats_ != nullptr) (void)nats_->flush(2s);  // best effort: an unsent ack is a redelivery
  sub_.reset();
  stream_watch_.reset();  // reads through js_
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
  owner_ = false;  // the lock belonged to the old connection
  writer_.reset();
  db_.reset();
  auto conn = pg::connect(options_.pg_url, {.attempts = 5});
  if (!conn) return std::unexpected(conn.error());
  db_ = std::move(*conn);
  if (auto st = db::identify_session(*db_, application_name_); !st) return st;
  writer_ = std::make_unique<db::BatchWriter>(*db_);
  return {};
}

bool Runner::take_ownership() {
  const std::string projection(db::kCoreProjection);
  std::optional<Steady::time_point> last_report;
  std::chrono::milliseconds backoff = options_.lock_poll_interval;
  while (!stop_.load()) {
    beat();
    if (db_ == nullptr || !db_->is_open()) {
      if (auto st = connect_db(); !st) {
        status_.set_db_ok(false);
        log::warn("pg.reconnect_failed", {{"error", st.error().message}});
        sleep_interruptibly(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
        continue;
      }
    }
    auto locked = db::try_lock_projection(*db_, projection);
    if (!locked) {
      log::warn("projector.lock_failed", {{"error", locked.error().message}});
      writer_.reset();  // reconnect: the session may be broken
      db_.reset();
      sleep_interruptibly(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = options_.lock_poll_interval;
    status_.set_db_ok(true);
    if (*locked) {
      owner_ = true;
      beat();
      log::info("projector.owner",
                {{"projection", projection}, {"application_name", application_name_}});
      return true;
    }
    // Our own earlier session, dead on our side but not yet noticed by the server.
    if (auto ended = db::take_over_stale(*db_, projection, application_name_); ended && *ended) {
      log::warn("projector.stale_session_ended", {{"projection", projection}});
      continue;
    }
    if (!last_report || Steady::now() - *last_report >= kStandbyLogInterval) {
      last_report = Steady::now();
      auto holder = db::projection_lock_holder(*db_, projection);
      if (holder && *holder) {
        const auto& h = **holder;
        log::warn("projector.standby",
                  {{"projection", projection},
                   {"holder_application", h.application_name},
                   {"holder_backend_pid", h.backend_pid},
                   {"holder_client", h.client_addr.empty() ? "local socket" : h.client_addr},
                   {"holder_connected_since", h.backend_start},
                   {"poll_ms", options_.lock_poll_interval.count()},
                   {"hint",
                    "another rmm-projector owns this projection; this one waits and "
                    "takes over when it stops"}});
      } else {
        log::warn("projector.standby",
                  {{"projection", projection},
                   {"holder", holder ? "gone before it could be named" : holder.error().message},
                   {"poll_ms", options_.lock_poll_interval.count()}});
      }
    }
    sleep_interruptibly(options_.lock_poll_interval);
  }
  return false;
}

Status Runner::resume_as_owner() {
  fetch_ahead_.reset();
  sub_.reset();
  auto cp = writer_->read_checkpoint();
  if (!cp) return std::unexpected(cp.error());
  if (*cp != checkpoint_) {
    log::warn("checkpoint.moved", {{"was", checkpoint_.value}, {"now", cp->value}});
  }
  checkpoint_ = *cp;
  status_.checkpoint(checkpoint_.value);
  return prepare_consumer();
}

void Runner::check_stream() {
  next_stream_check_ = Steady::now() + options_.stream_check_interval;
  if (js_ == nullptr) return;
  if (stream_watch_ != nullptr) stream_watch_->check();
  auto state = nats::read_stream_usage(js_->raw(), options_.stream);
  if (!state) {
    log::warn("stream.check_failed", {{"error", state.error().message}});
    return;
  }
  status_.stream_last_seq(state->last_seq);
  std::optional<std::int64_t> age;
  const std::uint64_t oldest = std::max(checkpoint_.value + 1, state->first_seq);
  if (state->max_age_ns > 0 && oldest <= state->last_seq) {
    auto t = stream_message_time(js_->raw(), options_.stream, StreamSeq{oldest});
    if (t && *t) age = real_clock().now() - **t;
  }
  const auto r = assess_lag(*state, checkpoint_, options_.lag_warn_percent, age);
  if (r.lost) {
    log::error("stream.unfolded_deleted",
               {{"stream", options_.stream},
                {"from", r.lost->first},
                {"to", r.lost->second},
                {"count", r.lost->second - r.lost->first + 1},
                {"checkpoint", checkpoint_.value},
                {"hint",
                 "the stream's limits deleted events no projector folded: when the projector "
                 "passes them it folds their control events from the control archive and "
                 "records the telemetry in ops.stream_losses (docs/operations.md, When the "
                 "stream overflows)"}});
  } else if (r.near_limit) {
    log::warn("stream.lag_near_limit", {{"stream", options_.stream},
                                        {"checkpoint", checkpoint_.value},
                                        {"lag_msgs", r.lag_msgs},
                                        {"max_msgs", state->max_msgs},
                                        {"msgs_percent", r.msgs_percent},
                                        {"lag_bytes", r.lag_bytes},
                                        {"max_bytes", state->max_bytes},
                                        {"bytes_percent", r.bytes_percent},
                                        {"age_percent", r.age_percent},
                                        {"warn_percent", options_.lag_warn_percent},
                                        {"discard", state->discard_new ? "new" : "old"}});
  }
}

Status Runner::start() {
  if (options_.http_port > 0) {
    // Before anything waits, so a standby answers /readyz (503) too. Not fatal: folding matters
    // more than being scraped.
    const auto stall = std::max<Steady::duration>(60s, 3 * options_.fetch_timeout);
    ops_ = std::make_unique<OpsHttp>(status_, stall);
    if (auto st = ops_->start(options_.http_host, static_cast<std::uint16_t>(options_.http_port));
        !st) {
      log::error("ops_http.failed", {{"error", st.error().message}});
      ops_.reset();
    } else {
      log::info("ops_http.listening", {{"host", options_.http_host}, {"port", ops_->port()}});
    }
  }
  if (auto st = connect_db(); !st) return st;
  // Nothing is migrated, read or consumed before this process owns the projection.
  if (!take_ownership()) return {};
  auto report = db::apply_migrations(*db_, options_.migrations_dir);
  if (!report) return std::unexpected(report.error());
  status_.set_migrated();
  log::info("migrations.ready", {{"applied", report->applied},
                                 {"already_applied", report->already_applied},
                                 {"dir", options_.migrations_dir.string()}});
  auto cp = writer_->read_checkpoint();
  if (!cp) return std::unexpected(cp.error());
  checkpoint_ = *cp;
  auto ahead = db::units_ahead_of_core(*db_);
  if (!ahead) return std::unexpected(ahead.error());
  if (*ahead) {
    return failf(
        "the partitioned projection folded up to sequence {}, past this projection's checkpoint "
        "{}: run rmm-projector with --partitions=16, or rebuild the read models first "
        "(docs/operations.md, Several projectors)",
        **ahead, checkpoint_.value);
  }
  status_.checkpoint(checkpoint_.value);
  partition_upkeep();

  auto conn = connect_nats(options_);
  if (!conn) return std::unexpected(conn.error());
  nats_ = std::move(*conn);
  auto js = nats::JetStream::create(*nats_, {});
  if (!js) return std::unexpected(js.error());
  js_ = std::move(*js);
  if (auto st = prepare_consumer(); !st) return st;
  // The other streams' limits matter to the platform too: warn here, where logs are watched.
  stream_watch_ = std::make_unique<StreamWatch>(
      js_->raw(), std::vector<std::string>{options_.stream, options_.control_archive,
                                           "RMM_COMMANDS", "RMM_RELEASES"});
  if (options_.ticker) {
    ticker_ = std::make_unique<Ticker>(*nats_, options_.tick_interval);
    if (auto st = ticker_->start(); !st) return st;
  }
  check_stream();
  log::info("projector.started", {{"checkpoint", checkpoint_.value},
                                  {"stream", options_.stream},
                                  {"durable", options_.durable},
                                  {"batch_size", options_.batch_size}});
  return {};
}

nats::PullConsumerSettings Runner::consumer_settings() const {
  // Room for a whole catch-up transaction plus the fetches read ahead during its write.
  return {
      .stream = options_.stream,
      .durable = options_.durable,
      .filter_subject = "",
      .start_after = checkpoint_,
      .max_ack_pending = std::max({2 * options_.catch_up_events + 2 * options_.batch_size, 1024}),
      .ack_wait = 30s,
      .ack_all = true,
  };
}

Status Runner::reset_consumer() {
  fetch_ahead_.reset();
  sub_.reset();
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(js_->raw(), options_.stream.c_str(), options_.durable.c_str(),
                                   nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
    return std::unexpected(nats::to_error(s, "deleting consumer " + options_.durable));
  }
  auto sub = js_->pull_subscribe(consumer_settings());
  if (!sub) return std::unexpected(sub.error());
  sub_ = std::move(*sub);
  fresh_consumer_ = true;
  log::info("consumer.created",
            {{"durable", options_.durable}, {"start_seq", checkpoint_.value + 1}});
  return {};
}

Status Runner::prepare_consumer() {
  jsErrCode code = static_cast<jsErrCode>(0);
  // A stream whose sequences are behind the checkpoint was recreated: every message would be
  // skipped as already applied. The read models must be rebuilt, not silently frozen.
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js_->raw(), options_.stream.c_str(), nullptr, &code);
  if (s != NATS_OK)
    return std::unexpected(nats::to_error(s, "looking up stream " + options_.stream));
  std::uint64_t stream_last = si->State.LastSeq;
  jsStreamInfo_Destroy(si);
  if (stream_last < checkpoint_.value) {
    return failf(
        "stream {} ends at sequence {} but the checkpoint is {}: the stream was recreated, or "
        "restored from a copy older than the database (docs/operations.md, Backup and restore)",
        options_.stream, stream_last, checkpoint_.value);
  }
  jsConsumerInfo* ci = nullptr;
  s = js_GetConsumerInfo(&ci, js_->raw(), options_.stream.c_str(), options_.durable.c_str(),
                         nullptr, &code);
  if (s != NATS_OK) {
    if (s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
      return std::unexpected(nats::to_error(s, "looking up consumer " + options_.durable));
    }
    return reset_consumer();  // not there yet: create it from the checkpoint
  }
  std::uint64_t ack_floor = ci->AckFloor.Stream;
  std::int64_t max_ack_pending = ci->Config != nullptr ? ci->Config->MaxAckPending : 0;
  jsConsumerInfo_Destroy(ci);
  // A consumer whose ack floor is past the checkpoint would never redeliver what the database
  // lacks (e.g. the read models were restored from an older backup).
  if (ack_floor > checkpoint_.value) {
    log::warn("consumer.ahead_of_checkpoint",
              {{"ack_floor", ack_floor}, {"checkpoint", checkpoint_.value}});
    return reset_consumer();
  }
  // A durable made by an older version or with other settings: too small a window would cap
  // the catch-up transactions (and at or below one fetch, stall the consumer).
  if (max_ack_pending > 0 && max_ack_pending < consumer_settings().max_ack_pending) {
    log::warn(
        "consumer.max_ack_pending_too_small",
        {{"max_ack_pending", max_ack_pending}, {"wanted", consumer_settings().max_ack_pending}});
    return reset_consumer();
  }
  auto sub = js_->pull_subscribe(consumer_settings());
  if (!sub) return std::unexpected(sub.error());
  sub_ = std::move(*sub);
  fresh_consumer_ = false;
  return {};
}

void Runner::partition_upkeep() {
  next_upkeep_ = std::chrono::steady_clock::now() + options_.partition_upkeep_interval;
  if (writer_ != nullptr) read_model_upkeep(*writer_, *db_, options_);
}

Result<db::BatchStats> Runner::write_with_retry(std::span<const BatchItem> items,
                                                const std::optional<db::StreamLoss>& loss) {
  std::chrono::milliseconds backoff = 100ms;
  const db::Continuity continuity{.checkpoint = checkpoint_, .loss = loss};
  for (;;) {
    beat();
    if (writer_ != nullptr && owner_) {
      auto stats = writer_->write(items, continuity);
      if (stats) {
        status_.set_db_ok(true);
        return stats;
      }
      if (stats.error().code == Error::Code::kConflict) return std::unexpected(stats.error());
      status_.set_db_ok(false);
      log::error("batch.write_failed", {{"error", stats.error().message}});
    }
    if (stop_.load()) return fail("stopping with an unwritten batch (it will be redelivered)");
    sleep_interruptibly(backoff);
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
    if (db_ == nullptr || !db_->is_open()) {
      if (auto st = connect_db(); !st) {
        log::warn("pg.reconnect_failed", {{"error", st.error().message}});
        continue;
      }
    }
    if (!owner_) {
      // A new connection: the lock went with the old one. Someone else may own it by now.
      auto locked = db::try_lock_projection(*db_, db::kCoreProjection);
      if (!locked) {
        log::warn("projector.lock_failed", {{"error", locked.error().message}});
        continue;
      }
      if (!*locked) {
        log::error("projector.ownership_lost",
                   {{"projection", db::kCoreProjection}, {"checkpoint", checkpoint_.value}});
        return fail(Error::Code::kConflict,
                    "another process took the projection over while the database was "
                    "unreachable");
      }
      owner_ = true;
      log::info("projector.owner", {{"projection", db::kCoreProjection},
                                    {"application_name", application_name_},
                                    {"after", "reconnect"}});
    }
  }
}

void Runner::start_fetch_ahead() {
  // Enough fetches ahead to fill the next catch-up transaction while this one is written.
  const auto depth = static_cast<std::size_t>(
      std::max(2, (options_.catch_up_events + options_.batch_size - 1) / options_.batch_size));
  fetch_ahead_ =
      std::make_unique<FetchAhead>(*sub_, options_.batch_size, options_.fetch_timeout, depth);
}

std::vector<Fetched> Runner::take_fetches() {
  std::vector<Fetched> out;
  auto first = fetch_ahead_->take(options_.fetch_timeout);
  if (!first) return out;
  std::size_t messages = first->items.size();
  const bool failed = first->error.has_value();
  out.push_back(std::move(*first));
  while (!failed && messages < static_cast<std::size_t>(options_.catch_up_events)) {
    auto next = fetch_ahead_->try_take_ok();
    if (!next) break;
    messages += next->items.size();
    out.push_back(std::move(*next));
  }
  return out;
}

Status Runner::run() {
  std::uint64_t applied = 0, duplicates = 0, dead = 0, transactions = 0, messages = 0;
  std::uint64_t fetched = 0;  // fetches folded into those transactions
  // Where the time goes, for the progress log: the writer's time, and its waits for fetches
  // (the reader's fetch and decode times are its own thread's, overlapping the writes).
  Steady::duration write_time{}, wait_time{};
  auto ms = [](Steady::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  auto next_progress = Steady::now() + kProgressLogInterval;
  std::chrono::milliseconds fetch_backoff = 100ms;
  std::chrono::milliseconds gap_backoff = 100ms;  // between refused gaps of new consumers
  while (!stop_.load()) {
    beat();
    if (!owner_) {
      // Lost with the connection, and taken by another process: wait as a standby.
      fetch_ahead_.reset();
      sub_.reset();
      if (!take_ownership()) break;
      if (auto st = resume_as_owner(); !st) {
        log::warn("projector.resume_failed", {{"error", st.error().message}});
        sub_.reset();  // the loop below recreates the consumer
      }
      continue;
    }
    if (Steady::now() >= next_upkeep_) partition_upkeep();
    if (Steady::now() >= next_stream_check_) check_stream();
    if (sub_ == nullptr) {  // a reset failed half way: keep trying, the checkpoint is safe
      if (auto st = reset_consumer(); !st) {
        log::warn("consumer.reset_failed", {{"error", st.error().message}});
        sleep_interruptibly(fetch_backoff);
        fetch_backoff = std::min<std::chrono::milliseconds>(fetch_backoff * 2, kMaxBackoff);
        continue;
      }
    }
    if (fetch_ahead_ == nullptr) start_fetch_ahead();
    const auto wait_start = Steady::now();
    auto fetches = take_fetches();
    wait_time += Steady::now() - wait_start;
    if (fetches.empty()) continue;
    if (fetches.back().error) {
      const Error error = *fetches.back().error;
      fetch_ahead_.reset();  // its reader stopped; a new one starts after the backoff
      fetches.pop_back();    // take_fetches() returns a failure alone
      log::warn("fetch.failed", {{"error", error.message}});
      sleep_interruptibly(fetch_backoff);
      fetch_backoff = std::min<std::chrono::milliseconds>(fetch_backoff * 2, kMaxBackoff);
      if (error.code == Error::Code::kNotFound) {
        // Someone deleted our consumer: make a new one from the checkpoint.
        if (auto st = reset_consumer(); !st)
          log::warn("consumer.reset_failed", {{"error", st.error().message}});
      }
      continue;
    }
    fetch_backoff = 100ms;

    // Stream order, each sequence once (fetches may carry a redelivery twice).
    std::vector<Fetched::Item*> ordered;
    for (auto& f : fetches) {
      for (auto& item : f.items) ordered.push_back(&item);
    }
    std::sort(ordered.begin(), ordered.end(),
              [](const Fetched::Item* a, const Fetched::Item* b) { return a->seq < b->seq; });

    std::vector<BatchItem> items;
    items.reserve(ordered.size());
    nats::Message* ack_through = nullptr;  // highest message at or below the new checkpoint
    std::uint64_t expected = checkpoint_.value + 1;
    bool gap = false;
    int skipped = 0;
    std::optional<db::StreamLoss> loss;
    for (auto* m : ordered) {
      if (m->seq < expected) {
        ++skipped;  // at or below the checkpoint: applied before a crash that lost the ack
        if (items.empty()) ack_through = &m->message;
        continue;
      }
      if (m->seq > expected) {
        if (!fresh_consumer_) {
          gap = true;
          log::warn("consumer.gap", {{"expected", expected}, {"got", m->seq}});
          break;
        }
        // A new consumer starts at the first message the stream holds past the checkpoint, so
        // the jump is a loss only if the stream really lost those messages; otherwise someone
        // else took them (another reader of the durable) and they must be delivered again.
        auto verdict =
            prove_deleted(js_->raw(), options_.stream, StreamSeq{expected}, StreamSeq{m->seq - 1});
        if (!verdict || !verdict->deleted) {
          gap = true;
          log::error("stream.gap_refused",
                     {{"from", expected},
                      {"to", m->seq - 1},
                      {"reason", verdict ? verdict->reason : verdict.error().message}});
          break;
        }
        // Its control events are in the archive: fold them, under their own sequences, in the
        // transaction that records the loss (loss_recovery.h); never pass them while it lags.
        auto filled = recover_deleted_range(*nats_, options_.stream, options_.control_archive,
                                            StreamSeq{expected}, StreamSeq{m->seq - 1},
                                            verdict->reason, kArchiveCatchUpWait);
        if (!filled) {
          gap = true;
          break;
        }
        loss = std::move(filled->loss);
        for (auto& item : filled->items) items.push_back(std::move(item));
      }
      fresh_consumer_ = false;
      items.push_back({StreamSeq{m->seq}, std::move(m->decoded)});
      ack_through = &m->message;
      expected = m->seq + 1;
    }
    if (!items.empty()) {
      const auto write_start = Steady::now();
      auto stats = write_with_retry(items, loss);
      write_time += Steady::now() - write_start;
      if (!stats && stats.error().code == Error::Code::kConflict) {
        // Refused (the checkpoint is not where this process left it) or the projection was
        // taken over: deliver again from the checkpoint in the database, acking nothing.
        fetch_ahead_.reset();
        sub_.reset();
        if (owner_) {
          log::error("batch.refused",
                     {{"error", stats.error().message}, {"checkpoint", checkpoint_.value}});
          sleep_interruptibly(fetch_backoff);
          fetch_backoff = std::min<std::chrono::milliseconds>(fetch_backoff * 2, kMaxBackoff);
          if (auto st = resume_as_owner(); !st) {
            log::warn("projector.resume_failed", {{"error", st.error().message}});
            sub_.reset();
          }
        }
        continue;
      }
      if (!stats) return std::unexpected(stats.error());
      status_.batch_written(*stats, Steady::now() - write_start);
      checkpoint_ = std::max(checkpoint_, stats->checkpoint);
      gap_backoff = 100ms;
      applied += stats->applied;
      duplicates += stats->duplicates;
      dead += stats->dead_letters;
      messages += items.size();
      fetched += fetches.size();
      ++transactions;
      if (stats->checkpoint.value > items.back().stream_seq.value) {
        log::warn("checkpoint.moved",
                  {{"was", items.back().stream_seq.value}, {"now", stats->checkpoint.value}});
      }
      if (stats->dead_letters > 0 || stats->dead_letters_dropped > 0) {
        log::warn("batch.dead_letters", {{"count", stats->dead_letters},
                                         {"over_cap", stats->dead_letters_dropped},
                                         {"checkpoint", checkpoint_.value}});
      }
      log::debug("batch.applied", {{"messages", items.size()},
                                   {"fetches", fetches.size()},
                                   {"applied", stats->applied},
                                   {"duplicates", stats->duplicates},
                                   {"checkpoint", checkpoint_.value}});
    }
    if (ack_through != nullptr) {
      // AckAll: acking the highest applied sequence acks everything before it.
      if (auto st = ack_through->ack(); !st)
        log::warn("ack.failed", {{"error", st.error().message}});
    }
    if (skipped > 0) log::debug("batch.redelivered", {{"skipped", skipped}});
    if (gap) {
      if (fresh_consumer_) {
        // Refused on a new consumer: do not spin on it.
        sleep_interruptibly(gap_backoff);
        gap_backoff = std::min<std::chrono::milliseconds>(gap_backoff * 2, kMaxBackoff);
      }
      if (auto st = reset_consumer(); !st) {
        log::warn("consumer.reset_failed", {{"error", st.error().message}});
        sleep_interruptibly(fetch_backoff);
      }
    }
    if (Steady::now() >= next_progress) {
      next_progress = Steady::now() + kProgressLogInterval;
      auto [fetch_time, decode_time] = fetch_ahead_ != nullptr
                                           ? fetch_ahead_->times()
                                           : std::pair<Steady::duration, Steady::duration>{};
      log::info("projector.progress", {{"checkpoint", checkpoint_.value},
                                       {"transactions", transactions},
                                       {"fetches", fetched},
                                       {"messages", messages},
                                       {"applied", applied},
                                       {"duplicates", duplicates},
                                       {"dead_letters", dead},
                                       {"reader_fetch_ms", ms(fetch_time)},
                                       {"reader_decode_ms", ms(decode_time)},
                                       {"writer_wait_ms", ms(wait_time)},
                                       {"write_ms", ms(write_time)}});
    }
  }
  log::info("projector.stopping", {{"checkpoint", checkpoint_.value},
                                   {"transactions", transactions},
                                   {"fetches", fetched},
                                   {"messages", messages},
                                   {"applied", applied},
                                   {"duplicates", duplicates},
                                   {"dead_letters", dead}});
  return {};
}

}  // namespace rmm::projector
