#include "agent/publisher/outbox_publisher.h"

#include <fmt/format.h>
#include <nats/nats.h>

#include <algorithm>

#include "common/event_codec.h"
#include "common/log.h"
#include "common/nats_message.h"

namespace rmm::agent {

namespace {

constexpr auto kUnexpectedLogInterval = std::chrono::minutes(1);

std::string_view lane_name(schema::Lane lane) {
  return lane == schema::Lane::Presence ? "presence" : "ordered";
}

}  // namespace

OutboxPublisher::OutboxPublisher(Outbox& outbox, nats::Connection& conn, const AgentId& agent,
                                 const MsgIdKey& key, PublisherOptions options, const Clock& clock)
    : outbox_(outbox),
      conn_(conn),
      agent_(agent),
      ids_(agent, key),
      options_(options),
      clock_(clock),
      backoff_(options.min_backoff) {}

Result<std::unique_ptr<OutboxPublisher>> OutboxPublisher::create(
    Outbox& outbox, nats::Connection& conn, const AgentId& agent, const MsgIdKey& key,
    PublisherOptions options, const Clock& clock) {
  if (options.window < 1 || options.read_batch < 1) {
    return fail(Error::Code::kInvalidInput, "publisher window and read batch must be at least 1");
  }
  std::unique_ptr<OutboxPublisher> p(new OutboxPublisher(outbox, conn, agent, key, options, clock));
  nats::JetStreamOptions jo;
  // nats.c's own limit stays above ours (window + the heartbeat + acks being handed over), so a
  // publish never stalls inside nats.c: the window is enforced here, where it can be waited on.
  jo.max_pending = options.window + 64;
  jo.on_ack = [raw = p.get()](const std::string& msg_id, Result<nats::PubAck> ack) {
    raw->on_ack(msg_id, std::move(ack));
  };
  auto js = nats::JetStream::create(conn, std::move(jo));
  if (!js) return std::unexpected(js.error());
  p->js_ = std::move(*js);
  return p;
}

OutboxPublisher::~OutboxPublisher() {
  stop();
}

Status OutboxPublisher::start() {
  {
    std::lock_guard lock(mutex_);
    if (thread_.joinable()) return fail(Error::Code::kConflict, "publisher already running");
    stopping_ = false;
    wake_ = true;
    cursor_ = 0;
    // An earlier run may have sent anything the outbox holds now, never what it appends later.
    sent_upto_ = std::max(sent_upto_, outbox_.last_seq().value);
    heartbeat_sent_upto_ = std::max(heartbeat_sent_upto_, outbox_.last_heartbeat());
    disconnected_ = true;  // the first connected turn takes back anything a previous run left
    backoff_ = options_.min_backoff;
    retry_at_ = {};
    thread_ = std::thread([this] { run(); });
  }
  // Outside mutex_: the hook takes mutex_ while the outbox holds its hook lock.
  outbox_.set_append_hook([this] { wake(); });
  return {};
}

void OutboxPublisher::stop() {
  {
    std::lock_guard lock(mutex_);
    if (!thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  outbox_.set_append_hook({});
  // Forget every publish nats.c still tracks (no callback will come for them), then wait for a
  // callback that had already started, so none runs once stop() returns.
  take_back_pending();
  if (auto st = js_->publish_async_complete(std::chrono::seconds(2)); !st) {
    log::warn("publisher.stop_wait", {{"error", st.error().message}});
  }
  std::lock_guard lock(mutex_);
  acks_.clear();
  inflight_.clear();
  resend_.clear();
  heartbeat_in_flight_ = 0;
  in_flight_ = 0;
}

void OutboxPublisher::notify_reconnected() {
  {
    std::lock_guard lock(mutex_);
    reconnected_ = true;
    wake_ = true;
  }
  cv_.notify_one();
}

void OutboxPublisher::wake() {
  {
    std::lock_guard lock(mutex_);
    wake_ = true;
  }
  cv_.notify_one();
}

PublisherStats OutboxPublisher::stats() const {
  return {sent_.load(),
          resent_.load(),
          acked_.load(),
          duplicates_.load(),
          unexpected_duplicates_.load(),
          failed_.load(),
          heartbeats_acked_.load(),
          reconnects_.load()};
}

// On nats.c's thread: parse, queue, signal. Nothing else.
void OutboxPublisher::on_ack(const std::string& msg_id, Result<nats::PubAck> ack) {
  auto at = ids_.parse(msg_id);
  if (!at) return;
  AckOutcome o{*at, ack.has_value(), ack.has_value() && ack->duplicate,
               ack.has_value() ? std::string() : std::move(ack.error().message)};
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    acks_.push_back(std::move(o));
  }
  cv_.notify_one();
}

void OutboxPublisher::run() {
  bool progress = true;
  while (true) {
    std::vector<AckOutcome> acks;
    bool reconnected = false;
    {
      std::unique_lock lock(mutex_);
      if (!progress) {
        cv_.wait_for(lock, next_wait_, [&] { return stopping_ || wake_ || !acks_.empty(); });
      }
      if (stopping_) return;
      wake_ = false;
      acks.swap(acks_);
      reconnected = std::exchange(reconnected_, false);
    }
    progress = handle_acks(acks);
    progress = step(reconnected) || progress;
    in_flight_ = inflight_.size();
  }
}

bool OutboxPublisher::handle_acks(std::vector<AckOutcome>& acks) {
  if (acks.empty()) return false;
  std::vector<AgentSeq> done;
  done.reserve(acks.size());
  for (auto& a : acks) {
    if (a.at.lane == schema::Lane::Presence) {
      const bool first = heartbeat_in_flight_ == a.at.n && heartbeat_sent_.first;
      if (heartbeat_in_flight_ == a.at.n) heartbeat_in_flight_ = 0;
      if (!a.ok) {
        note_failure("heartbeat", a.error);
        continue;
      }
      heartbeats_acked_++;
      if (a.duplicate && first) note_unexpected_duplicate(a.at);
      if (auto st = outbox_.clear_heartbeat(a.at.n); !st) {
        log::warn("publisher.clear_heartbeat_failed", {{"error", st.error().message}});
      }
      continue;
    }
    const auto it = inflight_.find(a.at.n);
    const bool was_in_flight = it != inflight_.end();
    const bool first = was_in_flight && it->second.first;
    if (was_in_flight) inflight_.erase(it);
    if (a.ok) {
      resend_.erase(a.at.n);
      done.push_back(AgentSeq{a.at.n});
      acked_++;
      if (a.duplicate) duplicates_++;
      if (a.duplicate && first) note_unexpected_duplicate(a.at);
    } else if (was_in_flight) {
      resend_.insert(a.at.n);
      failed_++;
      note_failure("event", a.error);
    }
  }
  if (!done.empty()) {
    backoff_ = options_.min_backoff;
    // A failed delete only means a duplicate publish later, which the dedupe window absorbs.
    if (auto st = outbox_.remove_acked(done); !st) {
      log::error("publisher.remove_failed", {{"error", st.error().message}});
    }
  }
  return true;
}

bool OutboxPublisher::step(bool reconnected) {
  next_wait_ = options_.idle_wait;
  if (!conn_.connected()) {
    disconnected_ = true;
    next_wait_ = options_.disconnected_poll;
    return false;
  }
  if (disconnected_ || reconnected) {
    disconnected_ = false;
    take_back_pending();
  }
  const auto now = clock_.steady_now();
  if (ack_overdue(now)) take_back_pending();
  if (now < retry_at_) {
    next_wait_ =
        std::min(options_.idle_wait, std::chrono::ceil<std::chrono::milliseconds>(retry_at_ - now));
    return false;
  }
  bool sent = false;
  // (2) The presence lane, ahead of everything else and outside the window.
  if (heartbeat_in_flight_ == 0) {
    if (auto hb = outbox_.pending_heartbeat()) {
      const LaneSeq at{schema::Lane::Presence, hb->n};
      const bool first = first_send(at);
      auto st =
          publish(codec::agent_event_subject(agent_, schema::Payload::Heartbeat), hb->bytes, at);
      if (!st) {
        note_failure("heartbeat", st.error().message);
        return false;
      }
      heartbeat_in_flight_ = hb->n;
      heartbeat_sent_ = {now, first};
      sent = true;
    }
  }
  const auto window = static_cast<std::size_t>(options_.window);
  // (3) Re-sends, oldest first.
  while (!resend_.empty() && inflight_.size() < window) {
    const auto seq = *resend_.begin();
    auto ev = outbox_.get(AgentSeq{seq});
    if (!ev) {
      note_failure("outbox read", ev.error().message);
      return sent;
    }
    if (ev->has_value()) {
      if (!send_ordered(**ev)) return sent;
      resent_++;
      sent = true;
    }
    resend_.erase(resend_.begin());  // sent again, or gone (dropped by the disk budget)
  }
  // (4) New events after the cursor, oldest first.
  while (resend_.empty() && inflight_.size() < window) {
    const auto room = std::min(window - inflight_.size(), options_.read_batch);
    auto batch = outbox_.next_unsent(AgentSeq{cursor_}, room);
    if (!batch) {
      note_failure("outbox read", batch.error().message);
      return sent;
    }
    if (batch->empty()) break;
    for (const auto& ev : *batch) {
      if (!send_ordered(ev)) {
        cursor_ = ev.seq.value - 1;  // this one and the rest of the batch are read again
        return sent;
      }
      cursor_ = ev.seq.value;
      sent_++;
      sent = true;
    }
  }
  return sent;
}

bool OutboxPublisher::send_ordered(const OutboxEvent& ev) {
  const LaneSeq at{schema::Lane::Ordered, ev.seq.value};
  const bool first = first_send(at);
  auto st = publish(codec::agent_event_subject(agent_, ev.type), ev.bytes, at);
  if (!st) {
    note_failure("event", st.error().message);
    return false;
  }
  inflight_.emplace(ev.seq.value, Sent{clock_.steady_now(), first});
  return true;
}

// Recorded before the publish is attempted: a publish that failed locally may still have left.
bool OutboxPublisher::first_send(LaneSeq at) {
  auto& upto = at.lane == schema::Lane::Presence ? heartbeat_sent_upto_ : sent_upto_;
  if (at.n <= upto) return false;
  upto = at.n;
  return true;
}

// Logs the lane and position, never the id: a logged id would tell a reader of the log the one
// id it needs to make a re-send of that event a duplicate.
void OutboxPublisher::note_unexpected_duplicate(LaneSeq at) {
  unexpected_duplicates_++;
  unexpected_since_log_++;
  const auto now = clock_.steady_now();
  if (unexpected_logged_at_ != std::chrono::steady_clock::time_point{} &&
      now - unexpected_logged_at_ < kUnexpectedLogInterval) {
    return;
  }
  log::error("publisher.unexpected_duplicate",
             {{"lane", lane_name(at.lane)},
              {"seq", at.n},
              {"count", unexpected_since_log_},
              {"hint",
               "another holder of this agent's msg ids: a cloned state dir or a leaked "
               "msg_id_key; the event was not stored"}});
  unexpected_since_log_ = 0;
  unexpected_logged_at_ = now;
}

// js_PublishMsgAsync with the msg id as a publish option (the outcome arrives at the wrapper's
// ack handler). No MaxWait: see ack_overdue().
Status OutboxPublisher::publish(const std::string& subject, std::span<const std::uint8_t> bytes,
                                LaneSeq at) {
  const std::string msg_id = ids_.id(at);
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, reinterpret_cast<const char*>(bytes.data()),
                     static_cast<int>(bytes.size()));
  if (s == NATS_OK) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MsgId = msg_id.c_str();
    s = js_PublishMsgAsync(js_->raw(), &msg, &po);
  }
  natsMsg_Destroy(msg);  // null when nats.c took ownership
  published_any_ = true;
  if (s != NATS_OK) {
    return std::unexpected(nats::to_error(
        s, fmt::format("JetStream async publish ({} lane, {})", lane_name(at.lane), at.n)));
  }
  return {};
}

// Takes back every publish nats.c still waits an ack for (after a disconnect their acks may never
// come) and rewinds the cursor to the oldest unacked event: the drain resumes from there.
void OutboxPublisher::take_back_pending() {
  natsMsgList pending{nullptr, 0};
  // nats.c creates its pending map on the first async publish and reads it unchecked here.
  if (published_any_ && js_PublishAsyncGetPendingList(&pending, js_->raw()) == NATS_OK) {
    natsMsgList_Destroy(&pending);
  }
  std::uint64_t oldest = cursor_ + 1;
  if (!inflight_.empty()) oldest = std::min(oldest, inflight_.begin()->first);
  if (!resend_.empty()) oldest = std::min(oldest, *resend_.begin());
  if (oldest <= cursor_) {
    log::info("publisher.resume", {{"from_seq", oldest}, {"in_flight", inflight_.size()}});
    cursor_ = oldest - 1;
  }
  if (!inflight_.empty() || heartbeat_in_flight_ != 0) reconnects_++;
  inflight_.clear();
  resend_.clear();
  heartbeat_in_flight_ = 0;
}

// True when some publish has waited longer than ack_timeout for its ack (checked a few times a
// second: a scan of the window).
bool OutboxPublisher::ack_overdue(std::chrono::steady_clock::time_point now) {
  if (now - last_timeout_check_ < std::chrono::milliseconds(250)) return false;
  last_timeout_check_ = now;
  auto oldest = heartbeat_in_flight_ != 0 ? heartbeat_sent_.at : now;
  for (const auto& [seq, sent] : inflight_) oldest = std::min(oldest, sent.at);
  if (now - oldest <= options_.ack_timeout) return false;
  failed_ += inflight_.size();
  log::warn("publisher.ack_timeout",
            {{"in_flight", inflight_.size()}, {"timeout_ms", options_.ack_timeout.count()}});
  return true;
}

// One warning and one backoff step per burst of failures (a disconnect fails a whole window).
void OutboxPublisher::note_failure(std::string_view what, const std::string& error) {
  const auto now = clock_.steady_now();
  if (now < retry_at_) return;
  retry_at_ = now + backoff_;
  log::warn("publisher.failed",
            {{"what", what}, {"error", error}, {"retry_in_ms", backoff_.count()}});
  backoff_ = std::min(backoff_ * 2, options_.max_backoff);
}

}  // namespace rmm::agent
