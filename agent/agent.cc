#include "agent/agent.h"

#include "agent/platform/host_info.h"
#include "agent/publisher/event_publisher.h"
#include "agent/state/state_dir.h"
#include "agent/version.h"
#include "common/event_codec.h"
#include "common/log.h"
#include "common/nats_jetstream.h"
#include "common/shutdown.h"

namespace rmm::agent {
namespace {

// Assigns the next sequence and publishes; false on shutdown or when no sequence can be reserved.
template <class Build>
bool send(StateDir& state, EventPublisher& publisher, const Clock& clock, schema::Payload type,
          Build build) {
  auto seq = state.next_seq();
  if (!seq) {
    log::error("event.sequence_failed", {{"error", seq.error().message}});
    return false;
  }
  codec::AgentEventHeader h{EventId::generate(clock), state.agent_id(), *seq, clock.now()};
  auto bytes = build(h);
  return publisher.publish(codec::agent_event_subject(state.agent_id(), type), bytes,
                           codec::agent_msg_id(state.agent_id(), *seq));
}

}  // namespace

Status run_agent(const AgentSettings& settings, const Clock& clock) {
  auto state = StateDir::open(settings.state_dir);
  if (!state) return std::unexpected(state.error());
  auto host = platform::read_host_info();
  if (!host) return std::unexpected(with_context(host.error(), "reading host information"));

  const std::string id = state->agent_id().str();
  nats::ConnectOptions opts;
  opts.url = settings.nats_url;
  opts.creds_file = state->creds_path().string();
  opts.name = "rmm-agent " + id;
  opts.inbox_prefix = "_INBOX." + id;  // the only inbox this agent's credential may subscribe to
  opts.retry_on_failed_connect = true;  // an agent starts even while the server is unreachable
  auto conn = nats::Connection::connect(opts);
  if (!conn) return std::unexpected(conn.error());
  auto js = nats::JetStream::create(**conn, {});
  if (!js) return std::unexpected(js.error());
  EventPublisher publisher(**js);
  log::info("agent.started", {{"agent_id", id}, {"version", kAgentVersion},
                              {"hostname", host->hostname}});

  codec::AgentStartedInfo started{host->hostname, host->os_name,   host->os_version,
                                  host->kernel,   host->arch,      std::string(kAgentVersion),
                                  host->cpu_model, host->cpu_count, host->memory_total_bytes};
  if (!send(*state, publisher, clock, schema::Payload::AgentStarted,
            [&](const auto& h) { return codec::build_agent_started(h, started); })) {
    return {};
  }
  while (true) {
    codec::HeartbeatInfo hb{std::string(kAgentVersion), platform::uptime_seconds().value_or(0), 0, 0};
    if (!send(*state, publisher, clock, schema::Payload::Heartbeat,
              [&](const auto& h) { return codec::build_heartbeat(h, hb); })) {
      break;
    }
    if (shutdown::wait_for(settings.heartbeat_interval)) break;
  }
  log::info("agent.stopped", {{"agent_id", id}});
  return {};
}

}  // namespace rmm::agent
