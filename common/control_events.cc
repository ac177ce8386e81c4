#include "common/control_events.h"

#include <fmt/format.h>

#include <array>

#include "common/event_codec.h"

namespace rmm::codec {
namespace {

struct ControlEntry {
  schema::Payload type;
  std::string_view aggregate;
  std::string_view token;
};

// Subjects are part of the wire contract: append only, never rename.
constexpr std::array<ControlEntry, 26> kControl = {{
    {schema::Payload::ClientCreated, "client", "client_created"},
    {schema::Payload::SiteCreated, "site", "site_created"},
    {schema::Payload::EnrollmentCodeCreated, "enrollment", "enrollment_code_created"},
    {schema::Payload::EnrollmentCodeRevoked, "enrollment", "enrollment_code_revoked"},
    {schema::Payload::AgentEnrolled, "agent", "agent_enrolled"},
    {schema::Payload::CloneSuspected, "agent", "clone_suspected"},
    {schema::Payload::AgentRevoked, "agent", "agent_revoked"},
    {schema::Payload::AgentMoved, "agent", "agent_moved"},
    {schema::Payload::ClientRenamed, "client", "client_renamed"},
    {schema::Payload::ClientDeleted, "client", "client_deleted"},
    {schema::Payload::SiteRenamed, "site", "site_renamed"},
    {schema::Payload::SiteDeleted, "site", "site_deleted"},
    {schema::Payload::PolicySet, "policy", "policy_set"},
    {schema::Payload::AlertAcknowledged, "alert", "alert_acknowledged"},
    {schema::Payload::AlertResolved, "alert", "alert_resolved"},
    {schema::Payload::AlertSuppressed, "alert", "alert_suppressed"},
    {schema::Payload::ClockTick, "clock", "tick"},
    {schema::Payload::UserCreated, "user", "user_created"},
    {schema::Payload::UserUpdated, "user", "user_updated"},
    {schema::Payload::CommandIssued, "command", "command_issued"},
    {schema::Payload::CommandCancelRequested, "command", "command_cancel_requested"},
    {schema::Payload::ReleasePublished, "release", "release_published"},
    {schema::Payload::RolloutCreated, "rollout", "rollout_created"},
    {schema::Payload::RolloutRingStarted, "rollout", "rollout_ring_started"},
    {schema::Payload::RolloutHalted, "rollout", "rollout_halted"},
    {schema::Payload::RolloutCompleted, "rollout", "rollout_completed"},
}};

const ControlEntry* entry_of(schema::Payload type) {
  for (const auto& e : kControl) {
    if (e.type == type) return &e;
  }
  return nullptr;
}

}  // namespace

std::vector<std::uint8_t> finish_control_event(flatbuffers::FlatBufferBuilder& fbb,
                                               const ControlEventHeader& h, schema::Payload type,
                                               flatbuffers::Offset<void> payload) {
  auto event_id = to_wire(h.event_id.bytes());
  auto source_id = to_wire(h.source.bytes());
  auto name = fbb.CreateString(h.source_name);
  auto env = schema::CreateEnvelope(fbb, &event_id, schema::SourceKind::ControlPlane, &source_id,
                                    name, h.seq, h.occurred_at, kEventSchemaVersion, type, payload);
  schema::FinishEnvelopeBuffer(fbb, env);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

std::string_view control_type_token(schema::Payload type) {
  const auto* e = entry_of(type);
  return e != nullptr ? e->token : std::string_view();
}

std::optional<schema::Payload> control_payload_for_token(std::string_view token) {
  for (const auto& e : kControl) {
    if (e.token == token) return e.type;
  }
  return std::nullopt;
}

std::string control_event_subject(schema::Payload type) {
  const auto* e = entry_of(type);
  if (e == nullptr) return {};
  return fmt::format("rmm.ctl.{}.{}", e->aggregate, e->token);
}

std::string control_msg_id(const ControlSourceId& source, std::uint64_t seq) {
  return fmt::format("{}:{}", source.str(), seq);
}

std::string control_msg_id(const ControlSourceId& source, std::uint64_t seq, const MsgIdKey& key) {
  // Kind 0: a control source has one sequence (and a key of its own, so no agent input shares it).
  return fmt::format("{}:{}:{}", source.str(), seq, msg_id_tag(key, source.bytes(), 0, seq));
}

std::vector<std::uint8_t> build_client_created(const ControlEventHeader& h,
                                               const ClientCreatedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto client = to_wire(v.client.bytes());
  auto partner = to_wire(v.partner.bytes());
  auto p = schema::CreateClientCreatedDirect(fbb, &client, &partner, v.name.c_str(),
                                             v.created_by.c_str(), v.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::ClientCreated, p.Union());
}

std::vector<std::uint8_t> build_site_created(const ControlEventHeader& h,
                                             const SiteCreatedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto site = to_wire(v.site.bytes());
  auto client = to_wire(v.client.bytes());
  auto p = schema::CreateSiteCreatedDirect(fbb, &site, &client, v.name.c_str(),
                                           v.created_by.c_str(), v.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::SiteCreated, p.Union());
}

std::vector<std::uint8_t> build_enrollment_code_created(const ControlEventHeader& h,
                                                        const EnrollmentCodeCreatedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto code = to_wire(v.code.bytes());
  auto site = to_wire(v.site.bytes());
  auto p = schema::CreateEnrollmentCodeCreatedDirect(fbb, &code, &site, v.code_hash.c_str(),
                                                     v.expires_at, v.created_by.c_str(),
                                                     v.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::EnrollmentCodeCreated, p.Union());
}

std::vector<std::uint8_t> build_enrollment_code_revoked(const ControlEventHeader& h,
                                                        const EnrollmentCodeRevokedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(128);
  auto code = to_wire(v.code.bytes());
  auto p = schema::CreateEnrollmentCodeRevokedDirect(fbb, &code, v.revoked_by.c_str(),
                                                     v.impersonator.c_str());
  return finish_control_event(fbb, h, schema::Payload::EnrollmentCodeRevoked, p.Union());
}

std::vector<std::uint8_t> build_agent_enrolled(const ControlEventHeader& h,
                                               const AgentEnrolledInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(512);
  auto agent = to_wire(v.agent.bytes());
  auto site = to_wire(v.site.bytes());
  auto code = to_wire(v.code.bytes());
  std::vector<flatbuffers::Offset<flatbuffers::String>> retired;
  for (const auto& k : v.retired_public_keys) retired.push_back(fbb.CreateString(k));
  auto p = schema::CreateAgentEnrolledDirect(fbb, &agent, &site, v.public_key.c_str(),
                                             v.fingerprint_hash.c_str(), &code, v.hostname.c_str(),
                                             v.reenrolled, retired.empty() ? nullptr : &retired);
  return finish_control_event(fbb, h, schema::Payload::AgentEnrolled, p.Union());
}

std::vector<std::uint8_t> build_clone_suspected(const ControlEventHeader& h,
                                                const CloneSuspectedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto agent = to_wire(v.agent.bytes());
  auto new_agent = to_wire(v.new_agent.bytes());
  auto p = schema::CreateCloneSuspectedDirect(fbb, &agent, v.old_fingerprint_hash.c_str(),
                                              v.new_fingerprint_hash.c_str(), &new_agent);
  return finish_control_event(fbb, h, schema::Payload::CloneSuspected, p.Union());
}

std::vector<std::uint8_t> build_agent_revoked(const ControlEventHeader& h,
                                              const AgentRevokedInfo& v) {
  flatbuffers::FlatBufferBuilder fbb(256);
  auto agent = to_wire(v.agent.bytes());
  auto keys = fbb.CreateVectorOfStrings(v.public_keys);
  auto p = schema::CreateAgentRevoked(fbb, &agent, keys, fbb.CreateString(v.revoked_by),
                                      fbb.CreateString(v.reason), fbb.CreateString(v.impersonator));
  return finish_control_event(fbb, h, schema::Payload::AgentRevoked, p.Union());
}

}  // namespace rmm::codec
