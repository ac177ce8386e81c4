#include "agent/agent.h"

#include <algorithm>
#include <atomic>

#include "agent/collectors/inventory.h"
#include "agent/collectors/metrics_collector.h"
#include "agent/commands/command_runner.h"
#include "agent/outbox/outbox.h"
#include "agent/platform/host_info.h"
#include "agent/publisher/outbox_publisher.h"
#include "agent/state/state_dir.h"
#include "agent/version.h"
#include "common/event_codec.h"
#include "common/log.h"
#include "common/nats_connection.h"
#include "common/shutdown.h"

namespace rmm::agent {
namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

// Turns what the agent observes into envelopes in the outbox.
class Reporter {
 public:
  Reporter(Outbox& outbox, const AgentId& agent, const Clock& clock)
      : outbox_(outbox), agent_(agent), clock_(clock) {}

  template <class Build>
  void append(EventClass cls, schema::Payload type, Build build) {
    auto seq = outbox_.append(cls, type, [&](AgentSeq s) { return build(header(s.value)); });
    if (!seq) log::error("outbox.append_failed", {{"type", codec::event_type_token(type)},
                                                  {"error", seq.error().message}});
  }

  void heartbeat() {
    auto age = std::chrono::duration_cast<std::chrono::seconds>(outbox_.oldest_unsent_age());
    codec::HeartbeatInfo hb{std::string(kAgentVersion), platform::uptime_seconds().value_or(0),
                            outbox_.depth(), static_cast<std::uint64_t>(age.count())};
    auto n = outbox_.put_heartbeat([&](std::uint64_t counter) {
      auto h = header(counter);
      h.lane = schema::Lane::Presence;
      return codec::build_heartbeat(h, hb);
    });
    if (!n) log::error("outbox.heartbeat_failed", {{"error", n.error().message}});
  }

  // Reports what the disk budget dropped since the last report, as a durable event.
  void drops() {
    auto report = outbox_.take_drop_report();
    if (!report) {
      log::error("outbox.drop_report_failed", {{"error", report.error().message}});
      return;
    }
    if (report->empty()) return;
    codec::OutboxDroppedInfo info{report->dropped_events, report->replaced_heartbeats,
                                  report->oldest_dropped_seq.value,
                                  report->newest_dropped_seq.value};
    log::warn("outbox.dropped", {{"metrics", info.dropped_metrics},
                                 {"heartbeats", info.dropped_heartbeats}});
    append(EventClass::kDurable, schema::Payload::OutboxDropped,
           [&](const auto& h) { return codec::build_outbox_dropped(h, info); });
  }

 private:
  codec::AgentEventHeader header(std::uint64_t seq) const {
    return {EventId::generate(clock_), agent_, AgentSeq{seq}, clock_.now()};
  }

  Outbox& outbox_;
  AgentId agent_;
  const Clock& clock_;
};

// Runs `task` when `next` is due and schedules its next run one interval later (skipping missed
// runs rather than bursting after a stall).
template <class Task>
void run_if_due(SteadyTime now, SteadyTime& next, std::chrono::milliseconds interval, Task task) {
  if (now < next) return;
  task();
  next = std::max(next + interval, now);
}

}  // namespace

Status run_agent(const AgentSettings& settings, const Clock& clock) {
  auto state = StateDir::open(settings.state_dir);
  if (!state) return std::unexpected(state.error());
  auto host = platform::read_host_info();
  if (!host) return std::unexpected(with_context(host.error(), "reading host information"));
  const AgentId agent = state->agent_id();
  const std::string id = agent.str();

  OutboxOptions outbox_options{settings.outbox_budget_bytes, platform::boot_id().value_or("")};
  auto outbox = Outbox::open(state->outbox_path(), outbox_options, clock);
  if (!outbox) return std::unexpected(with_context(outbox.error(), "opening the outbox"));

  std::atomic<OutboxPublisher*> publisher_ptr{nullptr};
  nats::ConnectOptions opts;
  opts.url = settings.nats_url;
  opts.creds_file = state->creds_path().string();
  opts.name = "rmm-agent " + id;
  opts.inbox_prefix = "_INBOX." + id;   // the only inbox this agent's credential may subscribe to
  opts.retry_on_failed_connect = true;  // an agent starts even while the server is unreachable
  opts.on_reconnected = [&publisher_ptr] {
    if (auto* p = publisher_ptr.load()) p->notify_reconnected();
  };
  auto conn = nats::Connection::connect(opts);
  if (!conn) return std::unexpected(conn.error());
  auto publisher = OutboxPublisher::create(**outbox, **conn, agent,
                                           PublisherOptions{.window = settings.publish_window}, clock);
  if (!publisher) return std::unexpected(publisher.error());
  publisher_ptr = publisher->get();
  if (auto st = (*publisher)->start(); !st) return std::unexpected(st.error());
  // Remote commands: started after the publisher, so their lifecycle events flow at once.
  CommandRunnerOptions command_options;
  command_options.state_dir = settings.state_dir;
  command_options.boot_id = outbox_options.boot_id;
  auto commands = CommandRunner::create(**outbox, conn->get(), agent, command_options, {}, clock);
  if (!commands) return std::unexpected(with_context(commands.error(), "starting commands"));
  if (auto st = (*commands)->start(); !st) return std::unexpected(st.error());
  log::info("agent.started", {{"agent_id", id}, {"version", kAgentVersion},
                              {"hostname", host->hostname}, {"outbox_depth", (*outbox)->depth()}});

  Reporter report(**outbox, agent, clock);
  codec::AgentStartedInfo started{host->hostname, host->os_name,   host->os_version,
                                  host->kernel,   host->arch,      std::string(kAgentVersion),
                                  host->cpu_model, host->cpu_count, host->memory_total_bytes};
  report.append(EventClass::kDurable, schema::Payload::AgentStarted,
                [&](const auto& h) { return codec::build_agent_started(h, started); });

  collectors::MetricsCollector metrics;
  SteadyTime next_heartbeat = clock.steady_now();
  SteadyTime next_metrics = next_heartbeat;
  SteadyTime next_inventory = next_heartbeat;
  while (!shutdown::requested()) {
    SteadyTime now = clock.steady_now();
    run_if_due(now, next_heartbeat, settings.heartbeat_interval, [&] { report.heartbeat(); });
    run_if_due(now, next_metrics, settings.metrics_interval, [&] {
      auto sample = metrics.sample();
      if (!sample) return log::warn("metrics.failed", {{"error", sample.error().message}});
      report.append(EventClass::kDroppable, schema::Payload::MetricsSample,
                    [&](const auto& h) { return codec::build_metrics(h, *sample); });
    });
    run_if_due(now, next_inventory, settings.inventory_interval, [&] {
      auto inventory = collectors::collect_inventory();
      if (!inventory) return log::warn("inventory.failed", {{"error", inventory.error().message}});
      report.append(EventClass::kDurable, schema::Payload::Inventory,
                    [&](const auto& h) { return codec::build_inventory(h, *inventory); });
    });
    report.drops();
    auto next = std::min({next_heartbeat, next_metrics, next_inventory});
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock.steady_now());
    shutdown::wait_for(std::max(wait, std::chrono::milliseconds(1)));
  }

  // Stop order: commands (their last events go to the outbox), the publisher (its acks arrive on
  // the connection), the connection.
  (*commands)->stop();
  commands->reset();
  publisher_ptr = nullptr;
  (*publisher)->stop();
  publisher->reset();
  conn->reset();
  log::info("agent.stopped", {{"agent_id", id}, {"outbox_depth", (*outbox)->depth()}});
  return {};
}

}  // namespace rmm::agent
