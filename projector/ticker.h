// The ticker: publishes a ClockTick control event (rmm.ctl.clock.tick) every `interval`, so that
// time-based alert rules (agent offline) run on event time from the log and a rebuild raises the
// same alerts at the same times.
//
// tick_ns is the wall clock rounded down to the interval. A tick carries no Nats-Msg-Id (it is
// never re-sent). It carried "tick:<tick_ns>", but the stream's duplicate window is keyed by the
// id alone, across the whole stream, and agents publish into the same stream: an agent could send
// the ids of the coming ticks first and have every tick answered "duplicate" (no offline alert
// ever again). That id also deduplicated the ticks of two tickers, which needs no id: only the
// projector that owns the projection runs one (Runner::start, after take_ownership), so two
// overlap only while an owner that lost its database session has not yet stopped, and a tick
// folded twice raises and resolves nothing twice. (A Nats-Expected-Last-Subject-Sequence check
// would dedupe across tickers, but the control archive checks it again against its own sequences
// and stalls: docs/operations.md.)
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
  // Publishes the tick of `now` and waits for the stream's ack. Exposed for tests.
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
