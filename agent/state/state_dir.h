// The agent's state directory: identity (agent_id), NATS credential (agent.creds) and the
// per-agent event sequence counter (seq). Everything in it is mode 0600, the folder 0700.
//
// Concurrency: one agent process per state directory; not thread-safe.
// Limitations: the sequence counter is a file rewritten per event (fine at heartbeat rates); the
// RocksDB outbox replaces it when the agent issue lands.
#pragma once

#include <filesystem>

#include "common/ids.h"
#include "common/result.h"

namespace rmm::agent {

class StateDir {
 public:
  static Result<StateDir> open(const std::filesystem::path& dir);

  const AgentId& agent_id() const { return agent_id_; }
  std::filesystem::path creds_path() const { return dir_ / "agent.creds"; }
  // Reserves the next sequence number durably before the event that carries it is sent, so a
  // restart never reuses one: at worst a crash leaves a gap, which the projector records.
  Result<AgentSeq> next_seq();

 private:
  std::filesystem::path dir_;
  AgentId agent_id_;
  AgentSeq last_{};
};

}  // namespace rmm::agent
