// The source of GET /api/v1/live: listens to the event log as it is published and fans out what
// the dashboard shows to every connection whose principal may see it.
//
//   - core NATS subscriptions (the API's services connection) to rmm.p.*.evt.> and rmm.ctl.>;
//     each message is verified and decoded (live_event.h) on the hub's own thread;
//   - agent -> client/site from the read models, cached (refreshed every `scope_refresh`, and
//     looked up once on a miss), so a message costs no query;
//   - `agent` events only on status changes: online at the first presence after silence, offline
//     once `offline_after` passed without one (checked every second by the injected clock);
//   - `alert` events from polling the alerts read model (new or changed rows: alerts are raised
//     by the projector, not by events);
//   - streams end with `bye` {"reason": "signed_out"} once their session is no longer valid
//     (signed out, expired, revoked, user disabled), checked in PostgreSQL every
//     `session_check`, so a sign-out through any rmm-api ends the streams of every other;
//   - a bounded inbound queue: when the hub falls behind, the excess is dropped and every
//     connection gets a `resync`;
//   - bounded streams, so that no user can take them all and owners are never locked out: at most
//     `max_per_session` per sign-in and `max_per_user` per user, where the newest wins (the oldest
//     of that session or user is ended with `bye` {"reason": "replaced"}: a tab closed without the
//     server noticing cannot lock its user out, and a user only ever displaces its own streams);
//     at most `max_connections` in all, of which the last `max_per_user` are kept for owners
//     (others get kConflict, a 503); an owner who finds all taken replaces the oldest stream of a
//     user who is not an owner.
//
// Concurrency: start()/stop() from the owner; connect() from request workers; NATS callbacks only
// copy into the inbound queue. Limitations: core NATS is at-most-once: a message published while
// the API was disconnected is not replayed (the dashboard resyncs on reconnect).
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/db/pg_pool.h"
#include "api/live/live_connection.h"
#include "api/live/live_event.h"
#include "common/clock.h"
#include "common/nats_connection.h"
#include "common/result.h"

namespace rmm::api::live {

struct LiveOptions {
  std::chrono::milliseconds offline_after{90'000};
  std::size_t max_connections = 256;  // more than max_per_user
  std::size_t max_per_user = 16;
  std::size_t max_per_session = 8;
  std::size_t max_queued_bytes = 1 << 20;  // per connection
  std::chrono::milliseconds heartbeat{15'000};
  std::chrono::milliseconds alert_poll{2'000};
  std::chrono::milliseconds scope_refresh{30'000};
  std::chrono::milliseconds session_check{5'000};
  std::size_t max_inbound = 50'000;  // messages waiting for the hub thread
};

class LiveHub {
 public:
  LiveHub(nats::Connection& nc, PgPool& pool, const Clock& clock, LiveOptions options);
  ~LiveHub();
  LiveHub(const LiveHub&) = delete;
  LiveHub& operator=(const LiveHub&) = delete;

  Status start();
  void stop();

  // A new subscriber (which may end older ones, see above); kConflict when every stream a user
  // of its role may use is open.
  Result<std::shared_ptr<LiveConnection>> connect(const Principal& principal);
  std::size_t connections();

 private:
  struct Inbound {
    std::string subject;
    std::vector<std::uint8_t> data;
  };
  struct Presence {
    std::int64_t last_seen_ns = 0;
    bool online = false;
  };

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
  void run();
  void handle(const LiveEvent& event);
  void check_offline();
  void poll_alerts();
  void refresh_scopes();
  void end_signed_out();
  std::optional<AgentScope> scope_of(const AgentId& agent);
  void broadcast(const std::optional<AgentScope>& scope, const std::string& frame);
  void resync_all();

  nats::Connection& nc_;
  PgPool& pool_;
  const Clock& clock_;
  const LiveOptions options_;
  std::vector<natsSubscription*> subs_;

  std::mutex in_mutex_;
  std::condition_variable in_cv_;
  std::deque<Inbound> inbound_;
  bool in_dropped_ = false;
  bool stopping_ = false;
  std::thread thread_;

  // One open stream and whose it is, in the order they were opened (oldest first).
  struct Subscriber {
    std::weak_ptr<LiveConnection> conn;
    UserId user;
    std::string session;
    bool owner = false;
  };
  // Ends the oldest subscriber `pick` selects (with `bye`), if any; conn_mutex_ held.
  template <class Pick>
  bool replace_oldest(Pick pick);

  std::mutex conn_mutex_;
  std::vector<Subscriber> conns_;

  // Hub thread only.
  std::unordered_map<AgentId, AgentScope> scopes_;
  std::unordered_map<AgentId, std::chrono::steady_clock::time_point> scope_misses_;
  std::unordered_map<AgentId, Presence> presence_;
  std::map<std::string, std::pair<AgentId, std::string>> alerts_;  // id -> agent, item JSON
  bool alerts_primed_ = false;
};

}  // namespace rmm::api::live
