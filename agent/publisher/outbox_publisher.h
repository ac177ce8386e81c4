// Drains the outbox into JetStream: asynchronous publishes with a bounded in-flight window, each
// with the Nats-Msg-Id "<agent id>:<seq>:<tag>" that only this agent's key can make
// (common/msg_ids.h), deleted from the outbox only after the stream's ack.
//
// Order of work on every turn of its thread: (1) the acks that arrived (acked events are deleted
// in one batch; failed or timed-out ones are queued for a re-send with the same msg id, which the
// stream's dedupe window turns into a no-op if the first copy had landed); (2) the presence lane:
// the pending heartbeat goes out first, outside the window, so a backlog of a million events
// never delays the sign of life; (3) re-sends, oldest first; (4) new events after the cursor,
// oldest first, while the window has room. A new append wakes the thread (the outbox's append
// hook); so do acks, stop() and notify_reconnected().
//
// Disconnects: nothing is sent while the connection is down. On the first turn after it is back,
// the publishes nats.c still tracks are taken back (their acks may never come) and the cursor
// rewinds to the oldest unacknowledged event, so the drain resumes from there. The same happens
// when an ack is missing for PublisherOptions::ack_timeout (a silent disconnect, a restarted
// server). That is checked here rather than with nats.c's per-publish MaxWait, which keeps a
// timer entry per message until its deadline even once acked (~100 B each: 40 MiB at full drain
// rate with a 10 s timeout).
//
// Duplicates: the stream answers "duplicate" when it holds a message with the same id. That is
// expected for a re-send (the first copy landed and its ack was lost), and also for the first send
// in this run of an event an earlier run had published. For the first send ever of an event (its
// sequence above the outbox's last sequence at start() and above every sequence sent since) it
// cannot happen unless something else published this agent's id: a clone of the machine sharing
// its state dir, or a leaked key. The event is deleted like any acked one (a re-send under the
// same id would be a duplicate again), and the publisher logs publisher.unexpected_duplicate (an
// error, at most once a minute) and counts it in PublisherStats::unexpected_duplicates.
//
// Concurrency: start()/stop() from one owner thread. The ack callback runs on nats.c's thread and
// only appends to a mutex-protected queue and signals the condition variable; all RocksDB work
// happens on the publisher's own thread.
// Limitations: stop() does not wait for in-flight acks: those events stay in the outbox and are
// re-sent with the same ids on the next start (the stream's 20-minute dedupe window drops the
// copies; the projector's per-agent sequence check covers a longer outage). The publisher must be
// destroyed before the Connection it was created with.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/outbox/outbox.h"
#include "common/clock.h"
#include "common/ids.h"
#include "common/msg_ids.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"

namespace rmm::agent {

struct PublisherOptions {
  int window = 1024;             // ordered-lane events in flight at most
  std::size_t read_batch = 256;  // events read from the outbox per RocksDB iterator
  std::chrono::milliseconds ack_timeout{10'000};  // then every unacked publish is sent again
  std::chrono::milliseconds idle_wait{1'000};     // longest sleep without a wake-up (safety net)
  std::chrono::milliseconds disconnected_poll{100};
  std::chrono::milliseconds min_backoff{250};  // after a failed publish, before trying again
  std::chrono::milliseconds max_backoff{5'000};
};

struct PublisherStats {
  std::uint64_t sent = 0;        // first sends of ordered events
  std::uint64_t resent = 0;      // re-sends after a failure, timeout or reconnect
  std::uint64_t acked = 0;       // ordered events acked (and deleted)
  std::uint64_t duplicates = 0;  // acks the stream marked duplicate (a re-send of a landed copy)
  // Duplicates of a first send: another holder of this agent's ids (see the class comment).
  std::uint64_t unexpected_duplicates = 0;
  std::uint64_t failed = 0;  // negative acks and ack timeouts
  std::uint64_t heartbeats_acked = 0;
  std::uint64_t reconnects = 0;  // resumptions after a disconnect
};

class OutboxPublisher {
 public:
  // Creates its own JetStream context on `conn` (the ack handler is per context). `key` makes the
  // msg ids (agent/publisher/msg_id_key.h keeps the agent's).
  static Result<std::unique_ptr<OutboxPublisher>> create(Outbox& outbox, nats::Connection& conn,
                                                         const AgentId& agent, const MsgIdKey& key,
                                                         PublisherOptions options = {},
                                                         const Clock& clock = real_clock());
  ~OutboxPublisher();
  OutboxPublisher(const OutboxPublisher&) = delete;
  OutboxPublisher& operator=(const OutboxPublisher&) = delete;

  // Starts the thread; the drain starts at the oldest event in the outbox.
  Status start();
  // Stops and joins the thread (interrupts any wait) and forgets every unacked publish.
  void stop();
  // For ConnectOptions::on_reconnected (safe from nats.c's thread): resume at once.
  void notify_reconnected();
  PublisherStats stats() const;
  // Ordered events sent and not yet acked, as of the thread's last turn.
  std::uint64_t in_flight() const { return in_flight_.load(); }

 private:
  struct AckOutcome {
    LaneSeq at;
    bool ok = false;
    bool duplicate = false;
    std::string error;
  };

  // When a publish went out, and whether it was the first send of its event ever (see
  // Duplicates in the class comment).
  struct Sent {
    std::chrono::steady_clock::time_point at{};
    bool first = false;
  };

  OutboxPublisher(Outbox& outbox, nats::Connection& conn, const AgentId& agent, const MsgIdKey& key,
                  PublisherOptions options, const Clock& clock);
  void on_ack(const std::string& msg_id, Result<nats::PubAck> ack);
  void wake();
  void run();
  bool handle_acks(std::vector<AckOutcome>& acks);
  bool step(bool reconnected);
  bool send_ordered(const OutboxEvent& ev);
  Status publish(const std::string& subject, std::span<const std::uint8_t> bytes, LaneSeq at);
  // Whether sending `at` now is its first send ever; records that it has been sent.
  bool first_send(LaneSeq at);
  void note_unexpected_duplicate(LaneSeq at);
  void take_back_pending();
  bool ack_overdue(std::chrono::steady_clock::time_point now);
  void note_failure(std::string_view what, const std::string& error);

  Outbox& outbox_;
  nats::Connection& conn_;
  AgentId agent_;
  AgentMsgIds ids_;
  PublisherOptions options_;
  const Clock& clock_;
  std::unique_ptr<nats::JetStream> js_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<AckOutcome> acks_;
  bool wake_ = false;
  bool stopping_ = false;
  bool reconnected_ = false;
  std::thread thread_;

  // Owned by the publisher's thread.
  std::uint64_t cursor_ = 0;  // highest sequence read from the outbox and sent
  // Ordered sequences sent, not yet acked or failed.
  std::map<std::uint64_t, Sent> inflight_;
  std::set<std::uint64_t> resend_;  // failed: to send again, oldest first
  std::uint64_t heartbeat_in_flight_ = 0;
  Sent heartbeat_sent_{};
  // Per lane, the highest position ever sent: the outbox's last position at start() (an earlier
  // run may have sent up to there), then raised by every send.
  std::uint64_t sent_upto_ = 0, heartbeat_sent_upto_ = 0;
  std::uint64_t unexpected_since_log_ = 0;
  std::chrono::steady_clock::time_point unexpected_logged_at_{};
  std::chrono::steady_clock::time_point last_timeout_check_{};
  bool disconnected_ = false;
  bool published_any_ = false;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::milliseconds backoff_{};
  std::chrono::milliseconds next_wait_{};

  std::atomic<std::uint64_t> in_flight_{0};
  std::atomic<std::uint64_t> sent_{0}, resent_{0}, acked_{0}, duplicates_{0},
      unexpected_duplicates_{0}, failed_{0}, heartbeats_acked_{0}, reconnects_{0};
};

}  // namespace rmm::agent
