// The read-model questions intents ask before publishing: does this thing exist, and may this
// principal see it? Anything invisible is kNotFound, exactly like a missing id, so a user of client
// A learns nothing about client B. Queries go through the read-only pool.
//
// Concurrency: thread-safe; blocks on PostgreSQL (worker pool only).
// Limitations: the read models lag the log by the projector's batch latency, so a thing created a
// moment ago may still be "not found" (callers create with ?wait= first).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/auth/principal.h"
#include "api/db/pg_pool.h"
#include "common/control_plane_events.h"
#include "common/result.h"

namespace rmm::api::intents {

struct TargetAgent {
  AgentId id;
  bool revoked = false;
  std::optional<SiteId> site;  // nullopt: enrolled before sites existed
  std::optional<ClientId> client;
};

struct CommandRow {
  CommandId id;
  AgentId agent;
  std::string status;
};

struct SiteRow {
  SiteId id;
  ClientId client;
};

struct UserRow {
  UserId id;
  schema::UserRole role = schema::UserRole::ReadOnly;
  std::vector<codec::ScopeRef> scopes;
  bool disabled = false;
};

class Lookups {
 public:
  explicit Lookups(PgPool& pool) : pool_(pool) {}

  // Every id must be a visible agent, else kNotFound naming the first that is not.
  Result<std::vector<TargetAgent>> agents(const Principal& p, const std::vector<AgentId>& ids);
  // The visible, not revoked agents of a visible site / client; kNotFound for the site or client
  // itself; kInvalidInput when more than `max` would be targeted.
  Result<std::vector<TargetAgent>> agents_of_site(const Principal& p, const SiteId& site,
                                                  std::size_t max);
  Result<std::vector<TargetAgent>> agents_of_client(const Principal& p, const ClientId& client,
                                                    std::size_t max);
  Result<TargetAgent> agent(const Principal& p, const AgentId& id);
  Result<CommandRow> command(const Principal& p, const CommandId& id);
  Status alert(const Principal& p, const AlertId& id);
  // Every id visible, else a 404 naming the first missing one by position (never its id).
  Status alerts(const Principal& p, const std::vector<AlertId>& ids);
  // A visible client that is not deleted. `directly`: the client itself (or global) must be
  // granted, not only one of its sites (what managing the client needs).
  Status client(const Principal& p, const ClientId& id, bool directly);
  Result<SiteRow> site(const Principal& p, const SiteId& id);
  // A policy or rollout scope the principal may target: a visible (client: directly granted)
  // client, site or agent; the global scope needs a global grant, else 403 `global_refusal`.
  Status scope(const Principal& p, const codec::ScopeRef& scope, const std::string& global_refusal);
  Status enrollment_code(const Principal& p, const EnrollmentCodeId& id);
  // A user the principal may manage: owners manage everyone; admins users below admin whose
  // scopes all lie inside the admin's own; a user with no grants at all only owners and global
  // admins.
  Result<UserRow> user(const Principal& p, const UserId& id);
  // True when another client (not deleted, not `except`) of the partner of the new client is
  // named `name`, compared case-insensitively: two clients of one name are easy to mix up.
  // Limitations: two creations racing past this check both succeed (the read model lags).
  Result<bool> client_name_taken(const std::string& name, const std::optional<ClientId>& except);
  // True when a user or credential named `username` exists already.
  Result<bool> username_taken(const std::string& username);

 private:
  PgPool& pool_;
};

// True when a scope grant lies inside what the principal sees (used when granting scopes).
Result<bool> scope_within(PgPool& pool, const Principal& p, const codec::ScopeRef& scope);

}  // namespace rmm::api::intents
