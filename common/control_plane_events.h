// Building the control-plane events of the projector and API issues (renames and deletes,
// policies, alert handling, clock ticks, users, issued commands, releases and rollouts). Subjects,
// dedupe ids and the header are those of common/control_events.h.
//
// Every event names its actor ("user:<id>", "admin:<unix user>", "ticker") and, while an owner
// impersonates a user, the owner as `impersonator`. Never a password, token or key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/control_events.h"

namespace rmm {
struct UserTag {};
struct AlertTag {};
struct RolloutTag {};
using UserId = Id<UserTag>;
using AlertId = Id<AlertTag>;
using RolloutId = Id<RolloutTag>;
}  // namespace rmm

namespace rmm::codec {

struct Actor {
  std::string actor;
  std::string impersonator;  // empty unless an owner acts as another user
};

struct ClientRenamedInfo {
  ClientId client;
  std::string name;
  Actor by;
};
struct ClientDeletedInfo {
  ClientId client;
  Actor by;
};
struct SiteRenamedInfo {
  SiteId site;
  std::string name;
  Actor by;
};
struct SiteDeletedInfo {
  SiteId site;
  Actor by;
};

// scope_id is the nil uuid for Global.
struct ScopeRef {
  schema::PolicyScope scope = schema::PolicyScope::Global;
  UuidBytes id{};
};

struct PolicySetInfo {
  ScopeRef scope;
  std::vector<std::pair<std::string, std::string>> values;  // key, value
  Actor by;
};

struct AlertAcknowledgedInfo {
  AlertId alert;
  std::string note;
  Actor by;
};
struct AlertResolvedInfo {
  AlertId alert;
  std::string note;
  Actor by;
};
struct AlertSuppressedInfo {
  AlertId alert;
  UnixNanos until = 0;
  Actor by;
};

struct ClockTickInfo {
  UnixNanos tick = 0;
};

struct UserCreatedInfo {
  UserId user;
  std::string username;
  std::string display_name;
  schema::UserRole role = schema::UserRole::ReadOnly;
  std::vector<ScopeRef> scopes;
  Actor by;
};

struct UserUpdatedInfo {
  UserId user;
  schema::UserRole role = schema::UserRole::ReadOnly;
  std::vector<ScopeRef> scopes;
  bool disabled = false;
  Actor by;
};

struct CommandIssuedInfo {
  CommandId command;
  AgentId agent;
  std::string kind;
  std::string summary;  // bounded by the caller
  std::uint64_t timeout_ms = 0;
  UnixNanos expires_at = 0;
  Actor by;
  UuidBytes batch{};  // nil unless the command is one of a bulk request's
};

// Issue 18: an agent moved to another site of its client.
struct AgentMovedInfo {
  AgentId agent;
  SiteId from;
  SiteId to;
  Actor by;
};

struct CommandCancelRequestedInfo {
  CommandId command;
  AgentId agent;
  CommandId cancel_command;
  Actor by;
};

struct ReleasePublishedInfo {
  std::string version;
  std::string platform;
  std::string arch;
  std::uint64_t size = 0;
  std::string sha256;
  std::string manifest;
  std::string signature;
  std::string key_id;
  std::string actor;
};

struct RolloutRingInfo {
  std::string name;
  std::vector<AgentId> agents;
  std::uint32_t percent = 0;
};

struct RolloutCreatedInfo {
  RolloutId rollout;
  std::string version;
  std::string platform;
  std::string arch;
  ScopeRef scope;
  std::vector<RolloutRingInfo> rings;
  std::uint32_t advance_healthy_percent = 0;
  std::uint32_t halt_failed_percent = 0;
  Actor by;
};

struct RolloutRingStartedInfo {
  RolloutId rollout;
  std::uint32_t ring_index = 0;
  std::vector<AgentId> agents;
  std::vector<AgentId> excluded_by_policy;       // auto_update not "on" (percentage rings)
  std::vector<AgentId> no_release_for_platform;  // no build of the version for their platform
};
struct RolloutHaltedInfo {
  RolloutId rollout;
  std::string reason;
  std::string actor;
  std::string impersonator;
};
struct RolloutCompletedInfo {
  RolloutId rollout;
};

using Bytes = std::vector<std::uint8_t>;

Bytes build_client_renamed(const ControlEventHeader& h, const ClientRenamedInfo& v);
Bytes build_client_deleted(const ControlEventHeader& h, const ClientDeletedInfo& v);
Bytes build_site_renamed(const ControlEventHeader& h, const SiteRenamedInfo& v);
Bytes build_site_deleted(const ControlEventHeader& h, const SiteDeletedInfo& v);
Bytes build_policy_set(const ControlEventHeader& h, const PolicySetInfo& v);
Bytes build_alert_acknowledged(const ControlEventHeader& h, const AlertAcknowledgedInfo& v);
Bytes build_alert_resolved(const ControlEventHeader& h, const AlertResolvedInfo& v);
Bytes build_alert_suppressed(const ControlEventHeader& h, const AlertSuppressedInfo& v);
Bytes build_clock_tick(const ControlEventHeader& h, const ClockTickInfo& v);
Bytes build_user_created(const ControlEventHeader& h, const UserCreatedInfo& v);
Bytes build_user_updated(const ControlEventHeader& h, const UserUpdatedInfo& v);
Bytes build_agent_moved(const ControlEventHeader& h, const AgentMovedInfo& v);
Bytes build_command_issued(const ControlEventHeader& h, const CommandIssuedInfo& v);
Bytes build_command_cancel_requested(const ControlEventHeader& h,
                                     const CommandCancelRequestedInfo& v);
Bytes build_release_published(const ControlEventHeader& h, const ReleasePublishedInfo& v);
Bytes build_rollout_created(const ControlEventHeader& h, const RolloutCreatedInfo& v);
Bytes build_rollout_ring_started(const ControlEventHeader& h, const RolloutRingStartedInfo& v);
Bytes build_rollout_halted(const ControlEventHeader& h, const RolloutHaltedInfo& v);
Bytes build_rollout_completed(const ControlEventHeader& h, const RolloutCompletedInfo& v);

// The scope's text form in read models and JSON: "global", "client", "site", "agent".
std::string_view scope_name(schema::PolicyScope scope);
std::optional<schema::PolicyScope> scope_from_name(std::string_view name);
// "read_only", "technician", "admin", "owner".
std::string_view role_name(schema::UserRole role);
std::optional<schema::UserRole> role_from_name(std::string_view name);

}  // namespace rmm::codec
