#include "api/live/live_connection.h"

#include "api/live/live_event.h"

namespace rmm::api::live {

Visibility Visibility::of(const Principal& p) {
  Visibility v;
  v.global = p.global();
  for (const auto& s : p.scopes) {
    if (s.scope == schema::PolicyScope::Client) v.clients.insert(s.id);
    if (s.scope == schema::PolicyScope::Site) v.sites.insert(s.id);
  }
  return v;
}

bool Visibility::sees(const AgentScope& scope) const {
  if (global) return true;
  return (scope.client && clients.contains(*scope.client)) ||
         (scope.site && sites.contains(*scope.site));
}

LiveConnection::LiveConnection(Visibility visibility, std::size_t max_queued_bytes,
                               std::chrono::milliseconds heartbeat)
    : visibility_(std::move(visibility)), max_bytes_(max_queued_bytes), heartbeat_(heartbeat) {
  // Tells EventSource how long to wait before reconnecting, and flushes the head to the client.
  queued_ = "retry: 3000\n: connected\n\n";
}

bool LiveConnection::push(const std::string& frame) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    if (resyncing_) {
      dropped_.fetch_add(1);
      return true;
    }
    if (queued_.size() + frame.size() > max_bytes_) {
      dropped_.fetch_add(1);
      queued_ = sse_frame("resync", "{}");
      resyncing_ = true;
    } else {
      queued_ += frame;
    }
    wake = wake_;
  }
  if (wake) wake();
  return true;
}

void LiveConnection::finish(const std::string& frame) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mutex_);
    if (closed_) return;
    // What is queued may be cut short (resync); the last frame must arrive whole.
    if (queued_.size() + frame.size() > max_bytes_) queued_.clear();
    queued_ += frame;
    closed_ = true;
    wake = wake_;
  }
  if (wake) wake();
}

void LiveConnection::start(std::function<void()> wake) {
  {
    std::lock_guard lock(mutex_);
    wake_ = std::move(wake);
  }
  wake_();
}

std::string LiveConnection::take(bool& ended) {
  std::lock_guard lock(mutex_);
  ended = closed_;
  resyncing_ = false;
  return std::exchange(queued_, {});
}

void LiveConnection::stop() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  wake_ = nullptr;
  queued_.clear();
}

}  // namespace rmm::api::live
