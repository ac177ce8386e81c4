// The command lifecycle events, appended to the outbox as durable events with sync=true: a
// command's state on the server side is only as good as these, so none may be dropped by the disk
// budget or lost by a power cut once its append returned.
//
// Concurrency: thread-safe (the Outbox is).
#pragma once

#include "agent/outbox/outbox.h"
#include "common/command_codec.h"

namespace rmm::agent {

class Lifecycle {
 public:
  Lifecycle(Outbox& outbox, const AgentId& agent, const Clock& clock)
      : outbox_(outbox), agent_(agent), clock_(clock) {}

  Status received(const codec::CommandReceivedInfo& v);
  Status started(const CommandId& id, std::uint32_t pid);
  Status output(const codec::CommandOutputInfo& v);
  Status completed(const codec::CommandCompletedInfo& v);
  Status failed(const CommandId& id, std::string_view reason);
  Status timed_out(const codec::CommandTimedOutInfo& v);
  Status cancelled(const codec::CommandCancelledInfo& v);
  Status expired(const CommandId& id, UnixNanos expires_at);
  Status rejected(const CommandId& id, std::string_view reason);
  Status interrupted(const CommandId& id, std::string_view reason);

 private:
  template <class Build>
  Status append(schema::Payload type, Build build);

  Outbox& outbox_;
  AgentId agent_;
  const Clock& clock_;
};

}  // namespace rmm::agent
