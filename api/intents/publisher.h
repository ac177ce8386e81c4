// The API's way into the log: control events (through the shared tenancy::ControlPublisher, so the
// process is one control-plane source with its own id and sequence, "api") and commands.
//
// A command is two messages: the CommandIssued control event first (so the read model knows the
// command, its issuer and impersonator before any agent report can arrive), then the
// CommandEnvelope, signed with the installation's command key (common/command_signing.h), on
// `rmm.cmd.<agent id>` (RMM_COMMANDS) with Nats-Msg-Id = the command id, so a re-send is dropped
// as a duplicate by the stream. Without a command key no command is issued at all.
//
// RMM_COMMANDS is a `discard new` stream: when it is full a command is refused, never dropped.
// So that no CommandIssued is logged for a command that cannot be stored, its room is checked
// first against the stream's usage (read at most every kUsageTtl, and counted down by our own
// publishes in between); a refusal is Error::Code::kFull with a message fit for the user.
//
// Concurrency: thread-safe (ControlPublisher serialises control events under its mutex; the
// usage cache has its own).
// Limitations: synchronous acks (~0.2 ms each on loopback): a bulk command to N agents costs 2N
// round trips. Other publishers (a second API) can fill the stream between the check and the
// publish; the command publish then fails after CommandIssued landed: the command stays "issued"
// in the read model and the caller gets the kFull error (it may retry: a new command id).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "admin/command_keys.h"
#include "admin/tenancy/control_publisher.h"
#include "common/clock.h"
#include "common/command_codec.h"
#include "common/control_plane_events.h"
#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "common/result.h"
#include "common/stream_usage.h"

namespace rmm::api::intents {

inline constexpr std::string_view kSourceName = "api";

class IntentPublisher {
 public:
  // `signer`: the command key (admin/command_keys.h); nullopt: every command is refused.
  static Result<std::unique_ptr<IntentPublisher>> create(
      nats::Connection& nc, const Clock& clock,
      std::optional<broker::CommandSigner> signer = std::nullopt);

  const ControlSourceId& source() const { return control_->source(); }
  tenancy::ControlPublisher& control() { return *control_; }

  // Publishes one control event; returns its RMM_EVENTS sequence.
  Result<StreamSeq> publish(schema::Payload type, const tenancy::ControlPublisher::Build& build);

  // CommandIssued, then the signed command itself. `summary` is the bounded one-line description
  // the read model shows. Returns the CommandIssued event's RMM_EVENTS sequence (what ?wait=
  // waits for). kTimeout (a 503) when rmm-api has no command key.
  // A trust_command_keys command gets the keys of the command-keys directory here, whatever it
  // carried. `batch`: the bulk request's id (nil for a single command).
  Result<StreamSeq> issue_command(const codec::CommandInfo& command, std::string_view summary,
                                  const codec::Actor& by, const UuidBytes& batch = {});

 private:
  IntentPublisher() = default;
  // kFull when RMM_COMMANDS cannot take a command of `bytes` (subject and headers included).
  Status reserve_command_room(std::size_t bytes);

  std::unique_ptr<nats::JetStream> js_;
  std::unique_ptr<tenancy::ControlPublisher> control_;
  std::optional<broker::CommandSigner> signer_;
  std::mutex usage_mu_;
  std::optional<nats::StreamUsage> commands_usage_;  // under usage_mu_
  std::chrono::steady_clock::time_point usage_read_at_{};
};

// "rmm.cmd.<agent id>".
std::string command_subject(const AgentId& agent);

}  // namespace rmm::api::intents
