#include "tests/projector/steady_load.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "common/control_events.h"
#include "common/control_plane_events.h"
#include "common/event_codec.h"

namespace rmm::test {

using namespace std::chrono_literals;

SteadyLoad::SteadyLoad(const NatsServerFixture& nats, int agents, int control_every,
                       std::chrono::milliseconds pause)
    : pub_(nats), control_every_(control_every), pause_(pause), rng_(4113) {
  for (int i = 0; i < agents; ++i) agents_.push_back({.id = AgentId::generate(real_clock())});
}

SteadyLoad::~SteadyLoad() {
  stop();
}

void SteadyLoad::start() {
  thread_ = std::thread([this] {
    for (int round = 1; !stop_.load(); ++round) {
      for (int i = 0; i < 4; ++i) one_event();
      if (control_every_ > 0 && round % control_every_ == 0) one_control_event();
      std::this_thread::sleep_for(pause_);
    }
  });
}

void SteadyLoad::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void SteadyLoad::one_event() {
  auto& a =
      agents_[std::uniform_int_distribution<int>(0, static_cast<int>(agents_.size()) - 1)(rng_)];
  const UnixNanos now = real_clock().now();
  Status st;
  if (std::uniform_int_distribution<int>(0, 1)(rng_) == 0) {
    ++a.presence_seq;
    codec::AgentEventHeader h{EventId::generate(real_clock()), a.id, AgentSeq{a.presence_seq}, now,
                              schema::Lane::Presence};
    st = pub_.js_->publish_async(
        codec::agent_event_subject(a.id, schema::Payload::Heartbeat),
        codec::build_heartbeat(h, {.agent_version = "0.1.0", .uptime_s = a.presence_seq}),
        fmt::format("{}:hb:{}", a.id.str(), a.presence_seq));
  } else {
    ++a.ordered_seq;
    codec::AgentEventHeader h{EventId::generate(real_clock()), a.id, AgentSeq{a.ordered_seq}, now};
    st = pub_.js_->publish_async(
        codec::agent_event_subject(a.id, schema::Payload::MetricsSample),
        codec::build_metrics(h, {.cpu_percent = static_cast<float>(a.ordered_seq % 100)}),
        codec::agent_msg_id(a.id, AgentSeq{a.ordered_seq}));
  }
  if (!st) ++failures_;
}

void SteadyLoad::one_control_event() {
  const auto n = static_cast<std::uint64_t>(++control_events_);
  const auto source = *ControlSourceId::parse("0190a5c2-0000-7000-8000-000000000377");
  codec::ControlEventHeader h{.event_id = EventId::generate(real_clock()),
                              .source = source,
                              .source_name = "steady-load",
                              .seq = n,
                              .occurred_at = real_clock().now()};
  const auto bytes = codec::build_client_created(
      h, {ClientId::generate(real_clock()), *PartnerId::parse(kDefaultPartnerId),
          fmt::format("load client {}", n), "user:load"});
  if (!pub_.js_->publish_async(codec::control_event_subject(schema::Payload::ClientCreated), bytes,
                               fmt::format("{}:{}", source.str(), n))) {
    ++failures_;
  }
}

std::int64_t check_applied_once(pqxx::connection& conn, const SteadyLoad& load) {
  std::int64_t events = 0;
  for (const auto& a : load.agents()) {
    auto row = [&](std::string_view column) {
      return scalar(conn, fmt::format("SELECT {} FROM agents WHERE id = '{}'", column, a.id.str()));
    };
    CAPTURE(a.id.str());
    if (a.ordered_seq + a.presence_seq == 0) continue;
    CHECK(row("last_seq").value_or(0) == static_cast<std::int64_t>(a.ordered_seq));
    CHECK(row("last_presence_seq").value_or(0) == static_cast<std::int64_t>(a.presence_seq));
    CHECK(row("events_applied").value_or(0) ==
          static_cast<std::int64_t>(a.ordered_seq + a.presence_seq));
    CHECK(scalar(conn, fmt::format("SELECT count(*) FROM metrics WHERE agent_id = '{}'",
                                   a.id.str())) == static_cast<std::int64_t>(a.ordered_seq));
    CHECK(scalar(conn, fmt::format("SELECT count(*) FROM agent_sequence_gaps "
                                   "WHERE agent_id = '{}'",
                                   a.id.str())) == 0);
    events += static_cast<std::int64_t>(a.ordered_seq + a.presence_seq);
  }
  return events;
}

}  // namespace rmm::test
