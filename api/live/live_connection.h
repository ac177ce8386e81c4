// One subscriber of GET /api/v1/live: what its principal may see, and a bounded queue of SSE
// frames the HTTP session drains (it is the session's StreamSource).
//
// When the client reads too slowly and the queue would pass its byte limit, everything queued is
// dropped and a single `resync` event is queued instead (the dashboard then reloads what it
// shows); frames are dropped until the client has drained that.
//
// Concurrency: push() from the hub's thread; the StreamSource methods from the session's strand;
// all guarded by one mutex. The wake callback is called outside the lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "api/auth/principal.h"
#include "api/server/stream.h"
#include "common/ids.h"

namespace rmm::api::live {

// Where an agent lives, for scope checks. Agents without a site are visible to global users only.
struct AgentScope {
  std::optional<UuidBytes> client;
  std::optional<UuidBytes> site;
};

// A principal's visibility, copied out of the request (the Principal does not outlive it).
struct Visibility {
  bool global = false;
  std::set<UuidBytes> clients;
  std::set<UuidBytes> sites;

  static Visibility of(const Principal& p);
  bool sees(const AgentScope& scope) const;
};

class LiveConnection : public StreamSource {
 public:
  LiveConnection(Visibility visibility, std::size_t max_queued_bytes,
                 std::chrono::milliseconds heartbeat);

  const Visibility& visibility() const { return visibility_; }
  // Queues a frame (or the resync marker when full). False once the connection is closed.
  bool push(const std::string& frame);
  // Ends the stream from the server's side: `frame` is the last thing written, then the session
  // closes the connection. The connection counts as closed at once.
  void finish(const std::string& frame);
  bool closed() const { return closed_.load(); }
  std::uint64_t dropped() const { return dropped_.load(); }

  void start(std::function<void()> wake) override;
  std::string take(bool& ended) override;
  std::string heartbeat() override { return ": keep-alive\n\n"; }
  std::chrono::milliseconds heartbeat_interval() const override { return heartbeat_; }
  void stop() override;

 private:
  const Visibility visibility_;
  const std::size_t max_bytes_;
  const std::chrono::milliseconds heartbeat_;
  std::mutex mutex_;
  std::string queued_;
  bool resyncing_ = false;  // dropped frames; waiting for the client to drain the resync marker
  std::function<void()> wake_;
  std::atomic<bool> closed_{false};
  std::atomic<std::uint64_t> dropped_{0};
};

}  // namespace rmm::api::live
