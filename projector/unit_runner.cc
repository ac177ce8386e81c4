#include "projector/unit_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <thread>

#include "common/jetstream_reply.h"
#include "common/log.h"
#include "common/pg.h"
#include "common/stream_usage.h"
#include "projector/db/projection_lock.h"
#include "projector/loss_recovery.h"
#include "projector/stream_state.h"
#include "projector/upkeep.h"

namespace rmm::projector {
namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

constexpr std::string_view kUnitPrefix = "core/";
constexpr std::string_view kControlUnit = "core/ctl";
// How long a unit whose first message waits for a peer sleeps before looking again: a peer
// raises its watermark at least once per fetch-timeout, and within kIdleRound + kWantedRound
// once it sees that this unit wants it.
constexpr auto kBarrierPoll = 10ms;
// An idle unit's rounds: kIdleRound, so that it sees soon that a peer waits for it, and
// kWantedRound while one does (each such round costs a stream info and a consumer info).
constexpr auto kIdleRound = 250ms;
constexpr auto kWantedRound = 20ms;
// How long a delivery the consumer made may stay unseen before it is taken as lost.
constexpr auto kLostAfter = 1s;
// Fetches that bring nothing this long while the consumer counts pending messages: the unit
// reports it and starts its consumer again.
constexpr auto kStalledAfter = 5s;
// A unit that waits for its peers this long checks that its checkpoint row is still its own (and
// again every as long).
constexpr auto kOwnRowCheck = 1s;
// A unit that waits for its peers this long says so (and again every as long).
constexpr auto kWaitReport = 10s;
// How long a deleted range waits for the control archive to catch up (as the single projection).
constexpr auto kArchiveCatchUpWait = 5s;

// "projector-p3" for unit "core/p3": durable names may hold neither '/' nor '.'.
std::string durable_of(const std::string& base, const std::string& unit) {
  return fmt::format("{}-{}", base, std::string_view(unit).substr(kUnitPrefix.size()));
}

}  // namespace

std::string unit_durable(const std::string& base, const Unit& unit) {
  return durable_of(base, unit.name);
}

std::vector<Unit> partitioned_units(int partitions) {
  std::vector<Unit> units;
  Unit control{.name = std::string(kControlUnit), .filter = "rmm.ctl.>", .control = true};
  for (int k = 0; k < partitions; ++k) {
    Unit u{.name = fmt::format("{}p{}", kUnitPrefix, k),
           .filter = fmt::format("rmm.p.{}.evt.*.*", k),
           .peers = {control.name}};
    control.peers.push_back(u.name);
    units.push_back(std::move(u));
  }
  units.push_back(std::move(control));
  return units;
}

void BarrierSignal::raised() {
  {
    std::lock_guard lock(mu_);
    ++generation_;
  }
  cv_.notify_all();
}

std::uint64_t BarrierSignal::generation() {
  std::lock_guard lock(mu_);
  return generation_;
}

void BarrierSignal::wait(std::uint64_t seen, std::chrono::milliseconds max) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, max, [&] { return generation_ != seen; });
}

UnitRunner::UnitRunner(const ProjectorOptions& options, Unit unit, nats::Connection& nats,
                       std::string application_name, BarrierSignal* signal)
    : options_(options),
      unit_(std::move(unit)),
      nats_(nats),
      application_name_(std::move(application_name)),
      signal_(signal) {}

UnitRunner::~UnitRunner() {
  ticker_.reset();  // publishes on nats_
  sub_.reset();
  js_.reset();
  writer_.reset();
  db_.reset();  // gives the lock back
}

Result<bool> UnitRunner::try_own() {
  auto conn = pg::connect(options_.pg_url, {.attempts = 1});
  if (!conn) return std::unexpected(conn.error());
  db_ = std::move(*conn);
  if (auto st = db::identify_session(*db_, application_name_); !st)
    return std::unexpected(st.error());
  auto locked = db::try_lock_projection(*db_, unit_.name);
  if (!locked || !*locked) {
    db_.reset();
    return locked;
  }
  writer_ = std::make_unique<db::BatchWriter>(*db_, unit_.name);
  return true;
}

Status UnitRunner::adopt(std::unique_ptr<pqxx::connection> conn, const UnitBound& bound) {
  try {
    db_ = std::move(conn);
    writer_ = std::make_unique<db::BatchWriter>(*db_, unit_.name);
    writer_->skip_raw_metrics_before(bound.skip_raw_metrics_before);
  } catch (const std::exception& e) {
    return failf("unit {}: preparing the batch writer: {}", unit_.name, e.what());
  }
  bound_ = bound;
  return {};
}

void UnitRunner::delete_consumer() {
  sub_.reset();
  if (js_ == nullptr) return;
  const std::string durable = durable_of(options_.durable, unit_.name);
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_DeleteConsumer(js_->raw(), options_.stream.c_str(), durable.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
    log::warn("unit.consumer_delete_failed",
              {{"durable", durable}, {"error", nats::to_error(s, durable).message}});
  }
}

Status UnitRunner::start_consumer() {
  sub_.reset();
  in_hand_.clear();
  last_consumer_seq_ = 0;
  missing_since_.reset();
  unacked_since_.reset();
  empty_since_.reset();
  auto cp = writer_->read_checkpoint();
  if (!cp) return std::unexpected(cp.error());
  checkpoint_ = *cp;
  highest_seen_ = checkpoint_.value;
  if (js_ == nullptr) {
    auto js = nats::JetStream::create(nats_, {});
    if (!js) return std::unexpected(js.error());
    js_ = std::move(*js);
  }
  const std::string durable = durable_of(options_.durable, unit_.name);
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_DeleteConsumer(js_->raw(), options_.stream.c_str(), durable.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
    return std::unexpected(nats::to_error(s, "deleting consumer " + durable));
  }
  auto own = writer_->peer_watermark(std::vector<std::string>{unit_.name});
  if (!own) return std::unexpected(own.error());
  watermark_ = std::max(watermark_, own->value);
  auto usage = nats::read_stream_usage(js_->raw(), options_.stream);
  if (!usage) return std::unexpected(usage.error());
  if (usage->first_seq > position() + 1) {
    if (auto st = settle_loss(position() + 1, usage->first_seq - 1); !st) return st;
    highest_seen_ = checkpoint_.value;
  }
  auto sub = js_->pull_subscribe({.stream = options_.stream,
                                  .durable = durable,
                                  .filter_subject = unit_.filter,
                                  .start_after = checkpoint_,
                                  .max_ack_pending = std::max(4 * options_.batch_size, 1024),
                                  .ack_wait = 30s,
                                  .ack_all = true});
  if (!sub) return std::unexpected(sub.error());
  sub_ = std::move(*sub);
  log::info("unit.consumer_created",
            {{"unit", unit_.name}, {"durable", durable}, {"start_seq", checkpoint_.value + 1}});
  return {};
}

Status UnitRunner::settle_loss(std::uint64_t from, std::uint64_t to) {
  auto verdict = prove_deleted(js_->raw(), options_.stream, StreamSeq{from}, StreamSeq{to});
  if (!verdict) return std::unexpected(verdict.error());
  if (!verdict->deleted) {
    return failf("unit {}: sequences {} to {} are not all deleted: {}", unit_.name, from, to,
                 verdict->reason);
  }
  std::vector<BatchItem> items;
  db::StreamLoss loss{options_.stream, StreamSeq{from}, StreamSeq{to}, verdict->reason};
  if (unit_.control) {
    // Exactly as the single projection: the range's control events from the archive.
    auto filled =
        recover_deleted_range(nats_, options_.stream, options_.control_archive, StreamSeq{from},
                              StreamSeq{to}, verdict->reason, kArchiveCatchUpWait);
    if (!filled) return std::unexpected(filled.error());
    items = std::move(filled->items);
    loss = std::move(filled->loss);
  } else {
    log::error("stream.unit_range_deleted",
               {{"unit", unit_.name},
                {"stream", options_.stream},
                {"from", from},
                {"to", to},
                {"reason", verdict->reason},
                {"hint",
                 "the stream's limits deleted messages past this unit's position; recorded once "
                 "for the projection in ops.stream_losses (docs/operations.md, When the stream "
                 "overflows)"}});
  }
  // The recovered control events go in stream order after the partitions' messages before them.
  // With none, the control unit still waits for the partitions to pass the range's start: its
  // checkpoint says that everything up to it is folded (common/projection_position.h).
  const std::uint64_t must_pass = !items.empty()  ? items.back().stream_seq.value - 1
                                  : unit_.control ? from - 1
                                                  : 0;
  while (must_pass > 0) {
    auto barrier = writer_->peer_watermark(unit_.peers);
    if (!barrier) return std::unexpected(barrier.error());
    if (must_pass <= barrier->value) break;
    if ((stop_ != nullptr && stop_->load()) || (release_ != nullptr && release_->load())) {
      return failf("unit {}: stopped before its peers reached sequence {}", unit_.name, must_pass);
    }
    std::this_thread::sleep_for(kBarrierPoll);
  }
  auto stats = writer_->write(items, db::UnitContinuity{.checkpoint = checkpoint_,
                                                        .peers = unit_.peers,
                                                        .watermark = StreamSeq{to},
                                                        .loss = std::move(loss)});
  if (!stats) return std::unexpected(stats.error());
  checkpoint_ = stats->checkpoint;
  watermark_ = std::max(watermark_, to);
  log::warn("unit.loss_settled", {{"unit", unit_.name},
                                  {"from", from},
                                  {"to", to},
                                  {"recorded_lost", stats->lost},
                                  {"control_events_recovered", stats->recovered},
                                  {"checkpoint", checkpoint_.value}});
  return {};
}

Result<bool> UnitRunner::deleted_past(std::uint64_t position) {
  auto usage = nats::read_stream_usage(js_->raw(), options_.stream);
  if (!usage) return std::unexpected(usage.error());
  if (usage->first_seq <= position + 1) return false;
  log::warn("unit.deleted_ahead",
            {{"unit", unit_.name}, {"position", position}, {"first_seq", usage->first_seq}});
  if (auto st = start_consumer(); !st) return std::unexpected(st.error());
  return true;
}

Result<bool> UnitRunner::fetch_more(std::chrono::milliseconds wait) {
  auto msgs = sub_->fetch(options_.batch_size, wait);
  if (!msgs) return std::unexpected(msgs.error());
  for (auto& m : *msgs) {
    const char* reply = natsMsg_GetReply(m.raw());
    auto delivery = nats::parse_delivery_reply(reply != nullptr ? reply : "");
    if (!delivery) {
      log::warn("message.no_metadata", {{"unit", unit_.name}, {"subject", m.subject()}});
      continue;
    }
    if (delivery->consumer_seq != last_consumer_seq_ + 1) {
      log::warn("unit.delivery_gap", {{"unit", unit_.name},
                                      {"expected", last_consumer_seq_ + 1},
                                      {"got", delivery->consumer_seq}});
      if (auto st = start_consumer(); !st) return std::unexpected(st.error());
      return false;
    }
    last_consumer_seq_ = delivery->consumer_seq;
    if (delivery->stream_seq <= highest_seen_) {
      // A redelivery of what is kept. Once committed it is acked on its own: when nothing comes
      // after it, no later AckAll would, and the consumer would count it unacked for ever (an
      // idle unit raises its watermark only with nothing unacked). Acks never decide what is
      // folded: a consumer is always recreated from the checkpoint.
      if (delivery->stream_seq <= checkpoint_.value) (void)m.ack();
      continue;
    }
    highest_seen_ = delivery->stream_seq;
    auto decoded = decode_message(m.subject(), m.data(), delivery->stream_time);
    in_hand_.push_back({delivery->stream_seq, std::move(m), std::move(decoded)});
  }
  return true;
}

bool UnitRunner::demanded() {
  auto wanted = writer_->peer_wanted(unit_.peers);
  if (!wanted) {
    log::warn("unit.demand_failed", {{"unit", unit_.name}, {"error", wanted.error().message}});
    return false;
  }
  return wanted->value > watermark_;
}

Status UnitRunner::publish_watermark(std::uint64_t watermark) {
  if (watermark <= watermark_) return {};
  if (auto st = writer_->publish_watermark(StreamSeq{watermark}); !st) return st;
  watermark_ = watermark;
  if (signal_ != nullptr) signal_->raised();
  return {};
}

bool UnitRunner::probe(std::optional<std::uint64_t> last_seq) {
  jsConsumerInfo* ci = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  const std::string durable = durable_of(options_.durable, unit_.name);
  natsStatus s =
      js_GetConsumerInfo(&ci, js_->raw(), options_.stream.c_str(), durable.c_str(), nullptr, &code);
  if (s != NATS_OK) {
    log::warn("unit.consumer_info_failed",
              {{"unit", unit_.name}, {"error", nats::to_error(s, durable).message}});
    return true;  // let the fetch find out
  }
  const std::uint64_t pending = ci->NumPending;
  const std::uint64_t unacked = ci->NumAckPending;
  // A delivery the consumer made that this runner has not seen: one that raced the end of a
  // fetch waits in the subscription's queue for the next fetch. One lost on its way (its pull
  // request expired) would hold the watermark for ack-wait, so after kLostAfter the consumer is
  // started again (recreating an R3 consumer under load costs more than the wait).
  const bool missing = ci->Delivered.Consumer > last_consumer_seq_;
  jsConsumerInfo_Destroy(ci);
  probed_pending_ = pending;
  probed_unacked_ = unacked;
  if (pending > 0) return true;
  if (missing) {
    const auto now = Steady::now();
    if (!missing_since_) missing_since_ = now;
    if (now - *missing_since_ < kLostAfter) return true;
    log::warn("unit.delivery_lost", {{"unit", unit_.name}, {"last_seen", last_consumer_seq_}});
    if (auto st = start_consumer(); !st) {
      log::warn("unit.consumer_failed", {{"unit", unit_.name}, {"error", st.error().message}});
    }
    return false;
  }
  missing_since_.reset();
  if (unacked != 0) {
    // With nothing in hand every delivery kept was committed and acked (AckAll), so an unacked
    // count that stays means an ack the server never counted. It would hold the watermark for
    // good (seen once in CI under heavy load, every partition of a projector idle at the same
    // position), so after kLostAfter the consumer starts again from the checkpoint.
    const auto now = Steady::now();
    if (!unacked_since_) unacked_since_ = now;
    if (now - *unacked_since_ < kLostAfter) return false;
    log::warn("unit.unacked_stuck",
              {{"unit", unit_.name}, {"unacked", unacked}, {"checkpoint", checkpoint_.value}});
    if (auto st = start_consumer(); !st) {
      log::warn("unit.consumer_failed", {{"unit", unit_.name}, {"error", st.error().message}});
    }
    return false;
  }
  unacked_since_.reset();
  // Nothing left to deliver and every delivery acked: every message of the unit up to
  // `last_seq` is committed (acks follow commits).
  if (!last_seq || *last_seq <= watermark_) return false;
  // Drained also when the stream deleted the unit's next messages before delivering them.
  if (auto moved = deleted_past(position()); !moved || *moved) {
    if (!moved) {
      log::warn("unit.restart_failed", {{"unit", unit_.name}, {"error", moved.error().message}});
    }
    return false;
  }
  if (auto st = publish_watermark(*last_seq); !st) {
    log::warn("unit.watermark_failed", {{"unit", unit_.name}, {"error", st.error().message}});
  }
  return false;
}

Result<std::size_t> UnitRunner::write_allowed() {
  if (signal_ != nullptr) barrier_seen_ = signal_->generation();
  auto barrier = writer_->peer_watermark(unit_.peers);
  if (!barrier) return std::unexpected(barrier.error());
  std::size_t n = 0;
  const std::uint64_t until =
      bound_ ? bound_->until.value : std::numeric_limits<std::uint64_t>::max();
  while (n < in_hand_.size() && in_hand_[n].seq - 1 <= barrier->value && in_hand_[n].seq <= until)
    ++n;
  if (n == 0 && in_hand_.front().seq > until) {
    // A bounded fold's end: every message of the unit up to the bound is committed.
    if (auto st = publish_watermark(in_hand_.front().seq - 1); !st)
      return std::unexpected(st.error());
    return 0;
  }
  if (n == 0) {
    const std::uint64_t need = in_hand_.front().seq - 1;
    if (auto st = publish_watermark(need); !st) return std::unexpected(st.error());
    if (need > wanted_) {
      if (auto st = writer_->publish_wanted(StreamSeq{need}); !st) {
        return std::unexpected(st.error());
      }
      wanted_ = need;
    }
    const auto now = Steady::now();
    if (!waiting_since_) waiting_since_ = now;
    if (now - *waiting_since_ >= kOwnRowCheck && now >= next_own_row_check_) {
      // What this unit published is cached: a checkpoint row replaced under it (a rebuild's
      // swap) would hide its watermark and its wants from its peers, each waiting for the other.
      next_own_row_check_ = now + kOwnRowCheck;
      auto own = writer_->read_checkpoint();
      if (!own) return std::unexpected(own.error());
      auto own_watermark = writer_->peer_watermark(std::vector<std::string>{unit_.name});
      if (!own_watermark) return std::unexpected(own_watermark.error());
      if (own->value != checkpoint_.value || own_watermark->value < watermark_) {
        return fail(Error::Code::kConflict,
                    fmt::format("unit {}: its checkpoint row moved under it (a rebuild's swap): "
                                "checkpoint {} watermark {}, not {} and {}",
                                unit_.name, own->value, own_watermark->value, checkpoint_.value,
                                watermark_));
      }
    }
    if (now - *waiting_since_ >= kWaitReport && now >= next_wait_report_) {
      next_wait_report_ = now + kWaitReport;
      log::warn(
          "unit.waiting",
          {{"unit", unit_.name},
           {"next", in_hand_.front().seq},
           {"peers_watermark", barrier->value},
           {"waiting_ms",
            std::chrono::duration_cast<std::chrono::milliseconds>(now - *waiting_since_).count()},
           {"hint", "a peer unit is behind: see projection_checkpoints"}});
    }
    return 0;
  }
  waiting_since_.reset();
  std::vector<BatchItem> items;
  items.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    items.push_back({StreamSeq{in_hand_[i].seq}, std::move(in_hand_[i].decoded)});
  }
  // Every message of the unit before the next one in hand is committed with this batch.
  const std::uint64_t watermark = n < in_hand_.size() ? in_hand_[n].seq - 1 : in_hand_[n - 1].seq;
  auto stats = writer_->write(items, db::UnitContinuity{.checkpoint = checkpoint_,
                                                        .peers = unit_.peers,
                                                        .watermark = StreamSeq{watermark}});
  if (!stats) return std::unexpected(stats.error());
  checkpoint_ = stats->checkpoint;
  watermark_ = std::max(watermark_, watermark);
  folded_ += n;
  if (signal_ != nullptr) signal_->raised();
  if (stats->dead_letters > 0 || stats->dead_letters_dropped > 0) {
    log::warn("batch.dead_letters", {{"unit", unit_.name},
                                     {"count", stats->dead_letters},
                                     {"over_cap", stats->dead_letters_dropped}});
  }
  // AckAll: the last committed message acks every delivery before it, redeliveries included.
  if (auto st = in_hand_[n - 1].message.ack(); !st) {
    log::warn("ack.failed", {{"unit", unit_.name}, {"error", st.error().message}});
  }
  in_hand_.erase(in_hand_.begin(), in_hand_.begin() + static_cast<std::ptrdiff_t>(n));
  return n;
}

bool UnitRunner::stalled() {
  if (probed_pending_ == 0) {
    empty_since_.reset();
    return false;
  }
  const auto now = Steady::now();
  if (!empty_since_) empty_since_ = now;
  if (now - *empty_since_ < kStalledAfter) return false;
  // Should not happen; if it does, the report says what the consumer counted, and a consumer
  // started again from the checkpoint delivers the unit's messages anew.
  log::warn("unit.stalled", {{"unit", unit_.name},
                             {"pending", probed_pending_},
                             {"unacked", probed_unacked_},
                             {"last_consumer_seq", last_consumer_seq_},
                             {"checkpoint", checkpoint_.value},
                             {"watermark", watermark_}});
  return true;
}

void UnitRunner::upkeep() {
  next_upkeep_ = Steady::now() + options_.partition_upkeep_interval;
  read_model_upkeep(*writer_, *db_, options_);
}

Status UnitRunner::run(const std::atomic<bool>& stop, const std::atomic<bool>& release) {
  if (writer_ == nullptr) return fail("unit runner started without owning its unit");
  stop_ = &stop;
  release_ = &release;
  if (auto st = start_consumer(); !st) return st;
  if (unit_.control && options_.ticker && !bound_) {
    ticker_ = std::make_unique<Ticker>(nats_, options_.tick_interval);
    if (auto st = ticker_->start(); !st) return st;
  }
  log::info("unit.owner", {{"unit", unit_.name}, {"checkpoint", checkpoint_.value}});
  std::chrono::milliseconds backoff = 100ms;
  auto bound_reached = [&] { return bound_ && watermark_ >= bound_->until.value; };
  while (!stop.load() && !release.load() && !bound_reached()) {
    if (unit_.control && !bound_ && Steady::now() >= next_upkeep_) upkeep();
    if (in_hand_.empty()) {
      if (sub_ == nullptr) {
        // A restart of the consumer failed half way (a range whose control events the archive
        // cannot supply yet, NATS or PostgreSQL down): the unit is taken again at the next poll.
        return fail(Error::Code::kConflict,
                    fmt::format("unit {}: no consumer after a failed restart", unit_.name));
      }
      // The unit asks its consumer before it fetches, so that it only fetches what is there:
      // a fetch that waits out its timeout empty would keep the unit from seeing that a peer
      // wants it, and its pull request, expiring while the server delivers, leaves messages
      // behind in the subscription (nats.c 3.4.1 overruns its batch array when a later fetch
      // collects more than half a batch of those). With nothing to fetch, the stream's end read
      // before the probe becomes the watermark: at once while a peer wants it (rounds of
      // kWantedRound), else once per fetch-timeout (rounds of kIdleRound).
      const bool wanted = demanded();
      const auto now = Steady::now();
      std::optional<std::uint64_t> last_seq;
      if (wanted || now >= next_idle_raise_) {
        next_idle_raise_ = now + options_.fetch_timeout;
        if (auto usage = nats::read_stream_usage(js_->raw(), options_.stream)) {
          last_seq = usage->last_seq;
        }
      }
      if (!probe(last_seq)) {
        std::this_thread::sleep_for(wanted ? kWantedRound : kIdleRound);
        continue;
      }
      const std::uint64_t position_before = position();
      auto fetched = fetch_more(options_.fetch_timeout);
      if (!fetched) {
        log::warn("unit.fetch_failed", {{"unit", unit_.name}, {"error", fetched.error().message}});
        std::this_thread::sleep_for(backoff);
        backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5000ms);
        if (fetched.error().code == Error::Code::kNotFound) (void)start_consumer();
        continue;
      }
      backoff = 100ms;
      // The consumer passes over messages the stream deleted before delivering them. The
      // control unit, whose watermark lets the partitions pass control events, proves after
      // every fetch that brought something that none of its messages went that way (one stream
      // info request: few fetches, control events being rare); every unit proves it before it
      // raises its watermark while idle (probe).
      if (unit_.control && !in_hand_.empty()) {
        auto moved = deleted_past(position_before);
        if (!moved) return std::unexpected(moved.error());
        if (*moved) continue;
      }
      if (in_hand_.empty()) {
        if (stalled()) (void)start_consumer();
        continue;
      }
      empty_since_.reset();
    }
    auto written = write_allowed();
    if (!written) {
      if (written.error().code == Error::Code::kConflict || !db_->is_open()) {
        // Refused, or the connection (and with it the lock) is gone: another process may own
        // the unit now. The caller decides whether to try again.
        return fail(Error::Code::kConflict,
                    fmt::format("unit {}: {}", unit_.name, written.error().message));
      }
      log::error("batch.write_failed", {{"unit", unit_.name}, {"error", written.error().message}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, 5000ms);
      // The failed batch's items were moved into it: deliver them again from the checkpoint.
      if (auto st = start_consumer(); !st) {
        return fail(Error::Code::kConflict,
                    fmt::format("unit {}: {}", unit_.name, st.error().message));
      }
      continue;
    }
    if (*written == 0 && !bound_reached()) {
      // The peers are behind: wait for one of this process's to move, or the next poll.
      if (signal_ != nullptr) {
        signal_->wait(barrier_seen_, kBarrierPoll);
      } else {
        std::this_thread::sleep_for(kBarrierPoll);
      }
    }
  }
  log::info("unit.released", {{"unit", unit_.name},
                              {"checkpoint", checkpoint_.value},
                              {"why", stop.load()       ? "stopping"
                                      : bound_reached() ? "bound reached"
                                                        : "fair share"}});
  return {};
}

}  // namespace rmm::projector
