// The API's way into the log: control events (through the shared tenancy::ControlPublisher, so the
// process is one control-plane source with its own id and sequence, "api") and commands.
//
// A command is two messages: the CommandIssued control event first (so the read model knows the
// command, its issuer and impersonator before any agent report can arrive), then the
// CommandEnvelope on `rmm.cmd.<agent id>` (RMM_COMMANDS) with Nats-Msg-Id = the command id, so a
// re-send is dropped as a duplicate by the stream.
//
// Concurrency: thread-safe (ControlPublisher serialises control events under its mutex).
// Limitations: synchronous acks (~0.2 ms each on loopback): a bulk command to N agents costs 2N
// round trips. If the command publish fails after CommandIssued landed, the command stays
// "issued" in the read model and the caller gets an error (it may retry: a new command id).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "admin/tenancy/control_publisher.h"
#include "common/clock.h"
#include "common/command_codec.h"
#include "common/control_plane_events.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/result.h"

namespace rmm::api::intents {

inline constexpr std::string_view kSourceName = "api";

class IntentPublisher {
 public:
  static Result<std::unique_ptr<IntentPublisher>> create(nats::Connection& nc, const Clock& clock);

  const ControlSourceId& source() const { return control_->source(); }
  tenancy::ControlPublisher& control() { return *control_; }

  // Publishes one control event; returns its RMM_EVENTS sequence.
  Result<StreamSeq> publish(schema::Payload type, const tenancy::ControlPublisher::Build& build);

  // CommandIssued, then the command itself. `summary` is the bounded one-line description the
  // read model shows. Returns the CommandIssued event's RMM_EVENTS sequence (what ?wait= waits
  // for).
  Result<StreamSeq> issue_command(const codec::CommandInfo& command, std::string_view summary,
                                  const codec::Actor& by);

 private:
  IntentPublisher() = default;

  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<tenancy::ControlPublisher> control_;
};

// "rmm.cmd.<agent id>".
std::string command_subject(const AgentId& agent);

}  // namespace rmm::api::intents
