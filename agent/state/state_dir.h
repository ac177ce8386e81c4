// The agent's state directory: identity (agent_id), NATS credential (agent.creds), the key of its
// msg ids (msg_id_key, created at the first start: agent/publisher/msg_id_key.h) and the outbox
// (outbox/, which owns the event sequence). Everything in it is mode 0600, the folder 0700.
//
// Concurrency: one agent process per state directory (the outbox's RocksDB LOCK enforces it).
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
  std::filesystem::path outbox_path() const { return dir_ / "outbox"; }
  std::filesystem::path msg_id_key_path() const { return dir_ / "msg_id_key"; }

 private:
  std::filesystem::path dir_;
  AgentId agent_id_;
};

}  // namespace rmm::agent
