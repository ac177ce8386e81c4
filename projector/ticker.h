// The ticker: publishes a ClockTick control event (rmm.ctl.clock.tick) every `interval`, so that
// time-based alert rules (agent offline) run on event time from the log and a rebuild raises the
// same alerts at the same times.
//
// tick_ns is the wall clock rounded down to the interval and the Nats-Msg-Id is "tick:<tick_ns>",
// so two tickers (two projectors) publish each tick once within the stream's dedupe window.
//
// Concurrency: one thread of its own, started by start() and joined by stop() (or the
// destructor); it publishes through its own JetStream context on a connection that must outlive
// it. Limitations: a tick missed while the broker is unreachable is not published later (the
// next one covers it: offline detection only needs "now").
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/control_events.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"

namespace rmm::projector {

class Ticker {
 public:
  Ticker(nats::Connection& conn, std::chrono::milliseconds interval,
         const Clock& clock = real_clock());
  ~Ticker();
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

  Status start();
  void stop();

  // `now` rounded down to a multiple of `interval`.
  static UnixNanos tick_of(UnixNanos now, std::chrono::milliseconds interval);
  // Publishes the tick of `now` and waits for the stream's ack (duplicate: another ticker
  // published this tick already). Exposed for tests.
  Result<nats::PubAck> publish_tick(UnixNanos now);

 private:
  void loop();

  nats::Connection& conn_;
  std::chrono::milliseconds interval_;
  const Clock& clock_;
  ControlSourceId source_;
  std::unique_ptr<nats::JetStream> js_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace rmm::projector
