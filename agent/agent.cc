#include "agent/agent.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "agent/collectors/inventory.h"
#include "agent/collectors/metrics_collector.h"
#include "agent/commands/applied_config.h"
#include "agent/commands/command_runner.h"
#include "agent/live_settings.h"
#include "agent/outbox/drop_reporter.h"
#include "agent/outbox/outbox.h"
#include "agent/platform/host_info.h"
#include "agent/publisher/msg_id_key.h"
#include "agent/publisher/outbox_publisher.h"
#include "agent/state/state_dir.h"
#include "agent/updates/spool_drain.h"
#include "agent/updates/updater_launch.h"
#include "agent/version.h"
#include "common/agent_local.h"
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
    if (!seq)
      log::error("outbox.append_failed",
                 {{"type", codec::event_type_token(type)}, {"error", seq.error().message}});
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

 private:
  codec::AgentEventHeader header(std::uint64_t seq) const {
    return {EventId::generate(clock_), agent_, AgentSeq{seq}, clock_.now()};
  }

  Outbox& outbox_;
  AgentId agent_;
  const Clock& clock_;
};

// The live settings at start: flags and defaults, then what earlier apply_config commands left.
Result<LiveSettings::Values> initial_live_settings(const AgentSettings& s) {
  auto disabled = parse_collector_list(s.disabled_collectors);
  if (!disabled) return std::unexpected(with_context(disabled.error(), "disabled-collectors"));
  return LiveSettings::Values{s.heartbeat_interval, s.metrics_interval, s.inventory_interval,
                              std::move(*disabled)};
}

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

  // Before anything is published: every msg id of this agent is made with it.
  auto msg_id_key = load_or_create_msg_id_key(state->msg_id_key_path());
  if (!msg_id_key) return std::unexpected(msg_id_key.error());

  OutboxOptions outbox_options{settings.outbox_budget_bytes, platform::boot_id().value_or("")};
  auto outbox = Outbox::open(state->outbox_path(), outbox_options, clock);
  if (!outbox) return std::unexpected(with_context(outbox.error(), "opening the outbox"));

  std::atomic<OutboxPublisher*> publisher_ptr{nullptr};
  nats::ConnectOptions opts;
  opts.url = settings.nats_url;
  opts.creds_file = state->creds_path().string();
  opts.tls_ca_file = settings.nats_tls.ca_file;
  opts.tls_server_name = settings.nats_tls.server_name;
  opts.name = "rmm-agent " + id;
  opts.inbox_prefix = "_INBOX." + id;   // the only inbox this agent's credential may subscribe to
  opts.retry_on_failed_connect = true;  // an agent starts even while the server is unreachable
  opts.on_reconnected = [&publisher_ptr] {
    if (auto* p = publisher_ptr.load()) p->notify_reconnected();
  };
  auto conn = nats::Connection::connect(opts);
  if (!conn) return std::unexpected(conn.error());
  auto publisher =
      OutboxPublisher::create(**outbox, **conn, agent, *msg_id_key,
                              PublisherOptions{.window = settings.publish_window}, clock);
  if (!publisher) return std::unexpected(publisher.error());
  publisher_ptr = publisher->get();
  if (auto st = (*publisher)->start(); !st) return std::unexpected(st.error());
  auto initial = initial_live_settings(settings);
  if (!initial) return std::unexpected(initial.error());
  LiveSettings live(std::move(*initial));
  if (auto applied = load_applied_config(settings.state_dir); !applied) {
    log::warn("config.applied_unreadable", {{"error", applied.error().message}});
  } else if (auto st = live.apply(*applied); !st) {
    log::warn("config.applied_invalid", {{"error", st.error().message}});
  }

  // Remote commands: started after the publisher, so their lifecycle events flow at once.
  CommandRunnerOptions command_options;
  command_options.state_dir = settings.state_dir;
  command_options.boot_id = outbox_options.boot_id;
  command_options.concurrency = settings.command_concurrency;
  command_options.fetch.js_domain = settings.nats_js_domain;
  command_options.limits.default_timeout = settings.command_timeout;
  command_options.limits.default_output_cap = settings.command_output_cap;
  // Without trusted command keys the agent still reports, but refuses every command.
  if (auto keys = load_command_keys(settings.state_dir); keys) {
    command_options.command_keys = std::move(*keys);
  } else {
    log::error("commands.no_trusted_keys", {{"error", keys.error().message}});
  }
  CommandHooks hooks;
  hooks.apply_config = [&live](const codec::KeyValues& kv) { return live.apply(kv); };
  if (!settings.updater.empty()) {
    updates::UpdaterLaunch launch{settings.updater, settings.state_dir, settings.nats_url,
                                  settings.nats_tls, settings.nats_js_domain};
    hooks.update_agent = [launch](const CommandId& cmd, const codec::UpdateAgentSpec& spec) {
      return updates::launch_updater(launch, cmd, spec);
    };
  }
  auto commands =
      CommandRunner::create(**outbox, conn->get(), agent, command_options, hooks, clock);
  if (!commands) return std::unexpected(with_context(commands.error(), "starting commands"));
  if (auto st = (*commands)->start(); !st) return std::unexpected(st.error());
  log::info("agent.started", {{"agent_id", id},
                              {"version", kAgentVersion},
                              {"hostname", host->hostname},
                              {"outbox_depth", (*outbox)->depth()}});

  Reporter report(**outbox, agent, clock);
  DropReporter drops(**outbox, agent, clock);
  codec::AgentStartedInfo started{host->hostname,  host->os_name,   host->os_version,
                                  host->kernel,    host->arch,      std::string(kAgentVersion),
                                  host->cpu_model, host->cpu_count, host->memory_total_bytes};
  report.append(EventClass::kDurable, schema::Payload::AgentStarted,
                [&](const auto& h) { return codec::build_agent_started(h, started); });

  LiveSettings::Values current = live.get();
  std::uint64_t generation = live.generation();
  auto metrics = std::make_unique<collectors::MetricsCollector>(
      collectors::MetricsOptions{.disabled = current.disabled_collectors});
  SteadyTime next_heartbeat = clock.steady_now();
  SteadyTime next_metrics = next_heartbeat;
  SteadyTime next_inventory = next_heartbeat;
  Status outcome;
  while (!shutdown::requested()) {
    SteadyTime now = clock.steady_now();
    if ((*conn)->closed()) {
      // nats.c gave up on this connection; everything unsent is in the outbox, so the cleanest
      // recovery is a restart by the supervisor (systemd, rmm-watchdog) with a fresh connection.
      outcome = fail("the broker connection was closed for good; exiting for a restart");
      break;
    }
    if (live.generation() != generation) {
      // apply_config: shorter intervals take effect now, longer ones after the next run.
      generation = live.generation();
      auto changed = live.get();
      next_heartbeat = std::min(next_heartbeat, now + changed.heartbeat_interval);
      next_metrics = std::min(next_metrics, now + changed.metrics_interval);
      next_inventory = std::min(next_inventory, now + changed.inventory_interval);
      if (changed.disabled_collectors != current.disabled_collectors) {
        metrics = std::make_unique<collectors::MetricsCollector>(
            collectors::MetricsOptions{.disabled = changed.disabled_collectors});
      }
      current = std::move(changed);
      log::info("config.applied", {{"heartbeat_ms", current.heartbeat_interval.count()},
                                   {"metrics_ms", current.metrics_interval.count()},
                                   {"inventory_ms", current.inventory_interval.count()}});
    }
    run_if_due(now, next_heartbeat, current.heartbeat_interval, [&] { report.heartbeat(); });
    run_if_due(now, next_metrics, current.metrics_interval, [&] {
      auto sample = metrics->sample();
      if (!sample) return log::warn("metrics.failed", {{"error", sample.error().message}});
      report.append(EventClass::kDroppable, schema::Payload::MetricsSample,
                    [&](const auto& h) { return codec::build_metrics(h, *sample); });
    });
    run_if_due(now, next_inventory, current.inventory_interval, [&] {
      auto inventory = collectors::collect_inventory({.disabled = current.disabled_collectors});
      if (!inventory) return log::warn("inventory.failed", {{"error", inventory.error().message}});
      report.append(EventClass::kDurable, schema::Payload::Inventory,
                    [&](const auto& h) { return codec::build_inventory(h, *inventory); });
    });
    if (auto reported = drops.report_if_due(); !reported) {
      log::error("outbox.drop_report_failed", {{"error", reported.error().message}});
    }
    // What rmm-updater and rmm-watchdog spooled, and the liveness/health signal they watch.
    updates::drain_spool(settings.state_dir, **outbox, agent, clock);
    if (auto st = local::write_health(settings.state_dir, kAgentVersion, ::getpid()); !st) {
      log::warn("health.write_failed", {{"error", st.error().message}});
    }
    // Wake at least once a second so an apply_config that shortens an interval is seen promptly.
    auto next = std::min({next_heartbeat, next_metrics, next_inventory});
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock.steady_now());
    shutdown::wait_for(
        std::clamp(wait, std::chrono::milliseconds(1), std::chrono::milliseconds(1000)));
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
  return outcome;
}

}  // namespace rmm::agent
