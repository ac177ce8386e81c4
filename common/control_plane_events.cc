#include "common/control_plane_events.h"

#include <array>

#include "common/event_codec.h"

namespace rmm::codec {
namespace {

using FBB = flatbuffers::FlatBufferBuilder;

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<schema::ScopeGrant>>> grants(
    FBB& fbb, const std::vector<ScopeRef>& scopes) {
  std::vector<flatbuffers::Offset<schema::ScopeGrant>> out;
  out.reserve(scopes.size());
  for (const auto& s : scopes) {
    auto id = to_wire(s.id);
    out.push_back(schema::CreateScopeGrant(fbb, s.scope, &id));
  }
  return fbb.CreateVector(out);
}

flatbuffers::Offset<flatbuffers::Vector<const schema::Uuid*>> uuids(
    FBB& fbb, const std::vector<AgentId>& agents) {
  std::vector<schema::Uuid> out;
  out.reserve(agents.size());
  for (const auto& a : agents) out.push_back(to_wire(a.bytes()));
  return fbb.CreateVectorOfStructs(out);
}

constexpr std::array<std::string_view, 4> kScopeNames = {"global", "client", "site", "agent"};
constexpr std::array<std::string_view, 4> kRoleNames = {"read_only", "technician", "admin",
                                                        "owner"};

}  // namespace

Bytes build_client_renamed(const ControlEventHeader& h, const ClientRenamedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.client.bytes());
  auto p = schema::CreateClientRenamedDirect(fbb, &id, v.name.c_str(), v.by.actor.c_str(),
                                             v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::ClientRenamed, p.Union());
}

Bytes build_client_deleted(const ControlEventHeader& h, const ClientDeletedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.client.bytes());
  auto p =
      schema::CreateClientDeletedDirect(fbb, &id, v.by.actor.c_str(), v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::ClientDeleted, p.Union());
}

Bytes build_site_renamed(const ControlEventHeader& h, const SiteRenamedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.site.bytes());
  auto p = schema::CreateSiteRenamedDirect(fbb, &id, v.name.c_str(), v.by.actor.c_str(),
                                           v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::SiteRenamed, p.Union());
}

Bytes build_site_deleted(const ControlEventHeader& h, const SiteDeletedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.site.bytes());
  auto p = schema::CreateSiteDeletedDirect(fbb, &id, v.by.actor.c_str(), v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::SiteDeleted, p.Union());
}

Bytes build_policy_set(const ControlEventHeader& h, const PolicySetInfo& v) {
  FBB fbb(512);
  std::vector<flatbuffers::Offset<schema::PolicyValue>> values;
  values.reserve(v.values.size());
  for (const auto& [key, value] : v.values) {
    values.push_back(schema::CreatePolicyValueDirect(fbb, key.c_str(), value.c_str()));
  }
  auto scope_id = to_wire(v.scope.id);
  auto p = schema::CreatePolicySetDirect(fbb, v.scope.scope, &scope_id, &values, v.by.actor.c_str(),
                                         v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::PolicySet, p.Union());
}

Bytes build_alert_acknowledged(const ControlEventHeader& h, const AlertAcknowledgedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.alert.bytes());
  auto p = schema::CreateAlertAcknowledgedDirect(fbb, &id, v.note.c_str(), v.by.actor.c_str(),
                                                 v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::AlertAcknowledged, p.Union());
}

Bytes build_alert_resolved(const ControlEventHeader& h, const AlertResolvedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.alert.bytes());
  auto p = schema::CreateAlertResolvedDirect(fbb, &id, v.note.c_str(), v.by.actor.c_str(),
                                             v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::AlertResolved, p.Union());
}

Bytes build_alert_suppressed(const ControlEventHeader& h, const AlertSuppressedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.alert.bytes());
  auto p = schema::CreateAlertSuppressedDirect(fbb, &id, v.until, v.by.actor.c_str(),
                                               v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::AlertSuppressed, p.Union());
}

Bytes build_clock_tick(const ControlEventHeader& h, const ClockTickInfo& v) {
  FBB fbb(128);
  auto p = schema::CreateClockTick(fbb, v.tick);
  return finish_control_event(fbb, h, schema::Payload::ClockTick, p.Union());
}

Bytes build_user_created(const ControlEventHeader& h, const UserCreatedInfo& v) {
  FBB fbb(512);
  auto id = to_wire(v.user.bytes());
  auto scopes = grants(fbb, v.scopes);
  auto p = schema::CreateUserCreated(
      fbb, &id, fbb.CreateString(v.username), fbb.CreateString(v.display_name), v.role, scopes,
      fbb.CreateString(v.by.actor), fbb.CreateString(v.by.impersonator));
  return finish_control_event(fbb, h, schema::Payload::UserCreated, p.Union());
}

Bytes build_user_updated(const ControlEventHeader& h, const UserUpdatedInfo& v) {
  FBB fbb(512);
  auto id = to_wire(v.user.bytes());
  auto scopes = grants(fbb, v.scopes);
  auto p =
      schema::CreateUserUpdated(fbb, &id, v.role, scopes, v.disabled, fbb.CreateString(v.by.actor),
                                fbb.CreateString(v.by.impersonator));
  return finish_control_event(fbb, h, schema::Payload::UserUpdated, p.Union());
}

Bytes build_agent_moved(const ControlEventHeader& h, const AgentMovedInfo& v) {
  FBB fbb(256);
  auto agent = to_wire(v.agent.bytes());
  auto from = to_wire(v.from.bytes());
  auto to = to_wire(v.to.bytes());
  auto p = schema::CreateAgentMovedDirect(fbb, &agent, &from, &to, v.by.actor.c_str(),
                                          v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::AgentMoved, p.Union());
}

Bytes build_command_issued(const ControlEventHeader& h, const CommandIssuedInfo& v) {
  FBB fbb(512);
  auto cmd = to_wire(v.command.bytes());
  auto agent = to_wire(v.agent.bytes());
  auto batch = to_wire(v.batch);
  auto p = schema::CreateCommandIssuedDirect(
      fbb, &cmd, &agent, v.kind.c_str(), v.summary.c_str(), v.timeout_ms, v.expires_at,
      v.by.actor.c_str(), v.by.impersonator.c_str(), v.batch == UuidBytes{} ? nullptr : &batch);
  return finish_control_event(fbb, h, schema::Payload::CommandIssued, p.Union());
}

Bytes build_command_cancel_requested(const ControlEventHeader& h,
                                     const CommandCancelRequestedInfo& v) {
  FBB fbb(256);
  auto cmd = to_wire(v.command.bytes());
  auto agent = to_wire(v.agent.bytes());
  auto cancel = to_wire(v.cancel_command.bytes());
  auto p = schema::CreateCommandCancelRequestedDirect(
      fbb, &cmd, &agent, &cancel, v.by.actor.c_str(), v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::CommandCancelRequested, p.Union());
}

Bytes build_release_published(const ControlEventHeader& h, const ReleasePublishedInfo& v) {
  FBB fbb(1024);
  auto p = schema::CreateReleasePublishedDirect(
      fbb, v.version.c_str(), v.platform.c_str(), v.arch.c_str(), v.size, v.sha256.c_str(),
      v.manifest.c_str(), v.signature.c_str(), v.key_id.c_str(), v.actor.c_str());
  return finish_control_event(fbb, h, schema::Payload::ReleasePublished, p.Union());
}

Bytes build_rollout_created(const ControlEventHeader& h, const RolloutCreatedInfo& v) {
  FBB fbb(1024);
  std::vector<flatbuffers::Offset<schema::RolloutRing>> rings;
  rings.reserve(v.rings.size());
  for (const auto& r : v.rings) {
    auto agents = uuids(fbb, r.agents);
    rings.push_back(schema::CreateRolloutRing(fbb, fbb.CreateString(r.name), agents, r.percent));
  }
  auto id = to_wire(v.rollout.bytes());
  auto scope_id = to_wire(v.scope.id);
  auto p = schema::CreateRolloutCreatedDirect(fbb, &id, v.version.c_str(), v.platform.c_str(),
                                              v.arch.c_str(), v.scope.scope, &scope_id, &rings,
                                              v.advance_healthy_percent, v.halt_failed_percent,
                                              v.by.actor.c_str(), v.by.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::RolloutCreated, p.Union());
}

Bytes build_rollout_ring_started(const ControlEventHeader& h, const RolloutRingStartedInfo& v) {
  FBB fbb(512);
  auto id = to_wire(v.rollout.bytes());
  auto agents = uuids(fbb, v.agents);
  auto excluded = uuids(fbb, v.excluded_by_policy);
  auto no_release = uuids(fbb, v.no_release_for_platform);
  auto p = schema::CreateRolloutRingStarted(fbb, &id, v.ring_index, agents, excluded, no_release);
  return finish_control_event(fbb, h, schema::Payload::RolloutRingStarted, p.Union());
}

Bytes build_rollout_halted(const ControlEventHeader& h, const RolloutHaltedInfo& v) {
  FBB fbb(256);
  auto id = to_wire(v.rollout.bytes());
  auto p = schema::CreateRolloutHaltedDirect(fbb, &id, v.reason.c_str(), v.actor.c_str(),
                                             v.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::RolloutHalted, p.Union());
}

Bytes build_rollout_completed(const ControlEventHeader& h, const RolloutCompletedInfo& v) {
  FBB fbb(128);
  auto id = to_wire(v.rollout.bytes());
  auto p = schema::CreateRolloutCompleted(fbb, &id);
  return finish_control_event(fbb, h, schema::Payload::RolloutCompleted, p.Union());
}

std::string_view scope_name(schema::PolicyScope scope) {
  auto i = static_cast<std::size_t>(scope);
  return i < kScopeNames.size() ? kScopeNames[i] : std::string_view();
}

std::optional<schema::PolicyScope> scope_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kScopeNames.size(); ++i) {
    if (kScopeNames[i] == name) return static_cast<schema::PolicyScope>(i);
  }
  return std::nullopt;
}

std::string_view role_name(schema::UserRole role) {
  auto i = static_cast<std::size_t>(role);
  return i < kRoleNames.size() ? kRoleNames[i] : std::string_view();
}

std::optional<schema::UserRole> role_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<schema::UserRole>(i);
  }
  return std::nullopt;
}

}  // namespace rmm::codec
