// Pulls this agent's commands from its durable consumer on RMM_COMMANDS with core NATS only: the
// agent's credential may publish to `$JS[.<domain>].API.CONSUMER.MSG.NEXT.RMM_COMMANDS.<id>` and
// `$JS.ACK.RMM_COMMANDS.<id>.>` and subscribe to `_INBOX.<id>.>`, nothing of the JetStream API
// that js_PullSubscribe needs (consumer info), so the pull protocol is spoken directly:
// - subscribe once to `_INBOX.<id>.cmd.*`;
// - publish `{"batch":N,"expires":<ns>}` to the next-message subject with reply
//   `_INBOX.<id>.cmd.<n>` (n counts requests), wait up to expires + 1 s;
// - a message with data is a command: the handler decides, then "+ACK", "-NAK" or "+TERM" is
//   published to its reply subject (its `$JS.ACK...` subject);
// - a status message (header Status, no ack subject) ends the wait for its request: 404 (no
//   messages) and 408 (request expired) are normal, 409 (limits, consumer deleted) backs off.
// A message is a delivery when, and only when, it carries a `$JS.ACK.` reply subject: that is
// what the server gives every message of the stream, whatever it holds, and no client may set
// such a reply itself. So a status message stored in the stream (a reply someone steered onto
// `rmm.cmd.<id>`) is handed to the handler, which terminates it, instead of being taken for the
// end of a request and left unacked until the consumer's max_ack_pending blocks every command.
// Deliveries for an older request are still handled: nothing delivered is ever ignored.
//
// Concurrency: one thread of its own; the handler runs there, in delivery order (the order of
// arrival). start()/stop() from the owner thread.
// Limitations: a lost "+ACK" means a redelivery after AckWait (60 s): the handler must be
// idempotent (the CommandStore makes it so).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <span>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/ids.h"
#include "common/nats_connection.h"

namespace rmm::agent {

enum class Disposition { kAck, kNak, kTerm };

struct Delivery {
  StreamSeq stream_seq;              // 0 when the ack subject could not be parsed
  std::uint64_t delivery_count = 0;  // 1 on the first delivery
};

struct FetcherOptions {
  int batch = 8;
  std::chrono::milliseconds expires{5000};
  std::chrono::milliseconds backoff{1000};  // after a 409 or a failed request
  // The JetStream domain holding RMM_COMMANDS: empty for the server the agent connects to; the
  // hub's (`hub`) for an agent on a site's leaf node, whose pulls the leaf then relays.
  std::string js_domain;
};

class CommandFetcher {
 public:
  using Handler = std::function<Disposition(std::span<const std::uint8_t>, const Delivery&)>;

  CommandFetcher(nats::Connection& conn, const AgentId& agent, FetcherOptions options,
                 Handler handler);
  ~CommandFetcher();
  CommandFetcher(const CommandFetcher&) = delete;
  CommandFetcher& operator=(const CommandFetcher&) = delete;

  Status start();
  void stop();  // returns within ~100 ms plus the running handler call

  std::uint64_t delivered() const { return delivered_.load(); }

 private:
  void run();
  bool pause(std::chrono::milliseconds d);  // false when stopping
  void handle(natsMsg* msg);
  // At most one warning a minute: a broker problem must not flood the log.
  void warn_limited(std::string_view what, const std::string& detail);

  nats::Connection& conn_;
  AgentId agent_;
  FetcherOptions options_;
  Handler handler_;
  std::string inbox_prefix_;  // "_INBOX.<id>.cmd."
  std::string next_subject_;
  natsSubscription* sub_ = nullptr;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> delivered_{0};
  int silent_ = 0;  // consecutive unanswered requests (fetcher thread)
  std::chrono::steady_clock::time_point warned_at_{};
  std::thread thread_;
};

// "$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>".
Delivery parse_ack_subject(std::string_view reply);
// Whether `msg` is a message of the stream (its reply subject is a JetStream ack subject).
bool is_stream_delivery(natsMsg* msg);

}  // namespace rmm::agent
