#include "projector/ticker.h"

#include "common/control_plane_events.h"
#include "common/log.h"

namespace rmm::projector {
namespace {

using namespace std::chrono_literals;

constexpr auto kPublishTimeout = 5s;

std::int64_t interval_ns(std::chrono::milliseconds interval) {
  return std::max<std::int64_t>(1, interval.count()) * 1'000'000;
}

}  // namespace

Ticker::Ticker(nats::Connection& conn, std::chrono::milliseconds interval, const Clock& clock)
    : conn_(conn), interval_(interval), clock_(clock), source_(ControlSourceId::generate(clock)) {}

Ticker::~Ticker() {
  stop();
}

UnixNanos Ticker::tick_of(UnixNanos now, std::chrono::milliseconds interval) {
  const auto step = interval_ns(interval);
  return now - ((now % step) + step) % step;
}

Status Ticker::start() {
  auto js = nats::JetStream::create(conn_, {});
  if (!js) return std::unexpected(js.error());
  js_ = std::move(*js);
  thread_ = std::thread([this] { loop(); });
  log::info("ticker.started", {{"interval_ms", interval_.count()}});
  return {};
}

void Ticker::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<nats::PubAck> Ticker::publish_tick(UnixNanos now) {
  if (js_ == nullptr) {
    auto js = nats::JetStream::create(conn_, {});
    if (!js) return std::unexpected(js.error());
    js_ = std::move(*js);
  }
  const UnixNanos tick = tick_of(now, interval_);
  codec::ControlEventHeader h{.event_id = EventId::generate(clock_),
                              .source = source_,
                              .source_name = "ticker",
                              .seq = static_cast<std::uint64_t>(tick / interval_ns(interval_)),
                              .occurred_at = tick};
  auto bytes = codec::build_clock_tick(h, codec::ClockTickInfo{tick});
  return js_->publish(codec::control_event_subject(schema::Payload::ClockTick), bytes,
                      /*msg_id=*/"", kPublishTimeout);
}

void Ticker::loop() {
  const auto step = interval_ns(interval_);
  std::unique_lock lock(mu_);
  while (!stopping_) {
    const UnixNanos now = clock_.now();
    lock.unlock();
    if (auto st = publish_tick(now); !st) {
      log::warn("ticker.publish_failed", {{"error", st.error().message}});
    }
    lock.lock();
    // Sleep to the next boundary of the wall clock (never longer than one interval).
    const UnixNanos next = tick_of(clock_.now(), interval_) + step;
    const auto wait =
        std::chrono::nanoseconds(std::clamp<std::int64_t>(next - clock_.now(), 1'000'000, step));
    cv_.wait_for(lock, wait, [this] { return stopping_; });
  }
}

}  // namespace rmm::projector
