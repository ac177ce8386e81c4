// Each agent's durable pull consumer on RMM_COMMANDS, created by the services side (enrollment,
// `rmm-admin agent-credential`), never by the agent: whoever can create consumers can read every
// agent's commands, so an agent's credential grants only the next-message and ack subjects of
// its own consumer (see agent_scope in identity.cc).
//
// The consumer: durable name = the agent id (a JWT template substitutes whole subject tokens),
// filter `rmm.cmd.<agent id>`, DeliverAll (commands published while the agent was offline are
// delivered when it returns, in order), AckExplicit, unlimited redeliveries, AckWait 60 s.
//
// Concurrency: uses the given connection from the calling thread only.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <string>
#include <string_view>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::broker {

inline constexpr std::string_view kCommandsStream = "RMM_COMMANDS";
inline constexpr std::chrono::seconds kCommandAckWait{60};
// Most messages one pull request may ask for, and pull requests waiting at once.
inline constexpr int kCommandMaxBatch = 16;
inline constexpr int kCommandMaxWaiting = 16;

// The consumer's name (and the last token of its JetStream API subjects).
std::string agent_command_consumer(const AgentId& agent);

// Creates the consumer when it is missing; an existing one with the right filter is kept as is
// (and its delivery position with it). Fails when a consumer of that name filters another subject.
Status ensure_agent_command_consumer(natsConnection* services, const AgentId& agent,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace rmm::broker
