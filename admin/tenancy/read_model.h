// Read-only queries over the tenancy and identity read models (projector migration 0002), shared
// by rmm-admin, the enrollment responder and the API's intents.
//
// The read models lag the event log by the projector's batch latency. A writer that must read its
// own write waits for the projection checkpoint to pass its event's stream sequence
// (wait_for_projection) instead of racing the projector.
//
// Concurrency: wraps one pqxx::connection, so one thread at a time.
// Limitations: libpqxx exceptions are caught here and returned as errors carrying driver text:
// log it, never show it to an untrusted client.
#pragma once

#include <chrono>
#include <optional>
#include <pqxx/connection>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/control_events.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::tenancy {

struct CodeRow {
  EnrollmentCodeId id;
  SiteId site;
  std::optional<ClientId> client;  // the site's client (none when the site is unknown)
  UnixNanos expires_at = 0;
  bool revoked = false;
};

struct AgentIdentityRow {
  AgentId id;
  std::optional<SiteId> site;
  std::optional<ClientId> client;  // the site's client
  std::string fingerprint_hash;    // empty for an agent that never enrolled by code
  std::string public_key;          // its current key; empty for an agent that never enrolled
  bool revoked = false;
};

class TenancyReadModel {
 public:
  explicit TenancyReadModel(pqxx::connection& conn) : conn_(conn) {}

  Result<bool> client_exists(const ClientId& id);
  Result<bool> site_exists(const SiteId& id);
  Result<std::optional<CodeRow>> find_code_by_hash(std::string_view code_hash);
  Result<std::optional<CodeRow>> find_code(const EnrollmentCodeId& id);
  Result<std::optional<AgentIdentityRow>> find_agent(const AgentId& id);
  // The most recently enrolled agent with this fingerprint that is not revoked.
  Result<std::optional<AgentIdentityRow>> find_agent_by_fingerprint(std::string_view hash);
  // Every public key ever enrolled for the agent.
  Result<std::vector<std::string>> agent_public_keys(const AgentId& id);
  // True when some agent already enrolled with this key (a key is never enrolled twice).
  Result<bool> public_key_enrolled(std::string_view public_key);

  // The core projection's checkpoint (0 before its first batch).
  Result<StreamSeq> checkpoint();
  // Polls the checkpoint until it reaches `seq`: true when it did, false after `timeout`.
  Result<bool> wait_for_projection(StreamSeq seq, std::chrono::milliseconds timeout);

 private:
  pqxx::connection& conn_;
};

}  // namespace rmm::tenancy
