#include "api/server/connections.h"

#include <vector>

#include "api/server/session.h"

namespace rmm::api {

std::uint64_t ConnectionTracker::add(std::weak_ptr<Session> session) {
  std::lock_guard lock(mutex_);
  if (closing_) return 0;
  std::uint64_t id = next_id_++;
  sessions_.emplace(id, std::move(session));
  return id;
}

void ConnectionTracker::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  sessions_.erase(id);
  if (sessions_.empty()) emptied_.notify_all();
}

void ConnectionTracker::shutdown_all() {
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(mutex_);
    closing_ = true;
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  // Outside the lock: a session may deregister (and take the lock) as soon as it is asked.
  for (auto& s : live) s->shutdown();
}

bool ConnectionTracker::wait_empty(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return emptied_.wait_for(lock, timeout, [&] { return sessions_.empty(); });
}

std::size_t ConnectionTracker::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace rmm::api
