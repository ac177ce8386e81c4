// The set of live HTTP sessions, so shutdown can reach every one of them and wait for them to end.
//
// Concurrency: all members are thread-safe. Sessions register themselves from their own strand
// and deregister in their destructor.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace rmm::api {

class Session;  // api/server/session.h: plain HTTP or HTTPS

class ConnectionTracker {
 public:
  // Registers a session; returns 0 (not registered) once shutdown has begun.
  std::uint64_t add(std::weak_ptr<Session> session);
  void remove(std::uint64_t id);
  // Refuses new sessions and asks every live one to close after its in-flight response.
  void shutdown_all();
  // True when no session is left before `timeout` passes.
  bool wait_empty(std::chrono::milliseconds timeout);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable emptied_;
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::uint64_t next_id_ = 1;
  bool closing_ = false;
};

}  // namespace rmm::api
