// Building the control-plane events of schemas/events.fbs (tenancy and enrollment), their
// subjects and dedupe ids. Agent events live in common/event_codec.h; these are published by
// services (rmm-admin, rmm-api) on `rmm.ctl.<aggregate>.<type token>` with source_kind
// ControlPlane, a source id per service instance and a per-source sequence.
//
// Secrets never enter these events: enrollment codes travel as hashes, agent keys as public keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/ids.h"
#include "common/msg_ids.h"
#include "events_generated.h"

namespace rmm {

struct ClientTag {};
struct SiteTag {};
struct PartnerTag {};
struct EnrollmentCodeTag {};
struct ControlSourceTag {};
using ClientId = Id<ClientTag>;
using SiteId = Id<SiteTag>;
using PartnerId = Id<PartnerTag>;
using EnrollmentCodeId = Id<EnrollmentCodeTag>;
// One control-plane service instance (an rmm-admin run, an rmm-api process).
using ControlSourceId = Id<ControlSourceTag>;

// The partner every client belongs to until partners can be created (seeded by migration 0002).
inline constexpr std::string_view kDefaultPartnerId = "00000000-0000-7000-8000-000000000001";

}  // namespace rmm

namespace rmm::codec {

// The subject token of a control payload ("client_created", ...); empty for any other payload.
std::string_view control_type_token(schema::Payload type);
std::optional<schema::Payload> control_payload_for_token(std::string_view token);
// "rmm.ctl.<aggregate>.<type token>", the aggregate being "client", "site", "enrollment" or
// "agent"; empty for a payload that is not a control event.
std::string control_event_subject(schema::Payload type);
// The Nats-Msg-Id of a control event: "<source id>:<seq>:<tag>", the tag a SipHash-128 of source
// and sequence under `key`, which the publishing instance makes at start and never shows
// (common/msg_ids.h: agents publish into the same stream, whose dedupe is keyed by the id alone).
std::string control_msg_id(const ControlSourceId& source, std::uint64_t seq, const MsgIdKey& key);
// "<source id>:<seq>", unkeyed: for tests that publish control events with the services
// credential. Anyone who has seen the source id can make it; services never use it.
std::string control_msg_id(const ControlSourceId& source, std::uint64_t seq);

struct ControlEventHeader {
  EventId event_id;
  ControlSourceId source;
  std::string source_name;  // "admin", "api"
  std::uint64_t seq = 0;    // per source, from 1
  UnixNanos occurred_at = 0;
};

struct ClientCreatedInfo {
  ClientId client;
  PartnerId partner;
  std::string name;
  std::string created_by;
  std::string impersonator;  // the owner acting as the user named above, else empty
};

struct SiteCreatedInfo {
  SiteId site;
  ClientId client;
  std::string name;
  std::string created_by;
  std::string impersonator;  // the owner acting as the user named above, else empty
};

struct EnrollmentCodeCreatedInfo {
  EnrollmentCodeId code;
  SiteId site;
  std::string code_hash;
  UnixNanos expires_at = 0;
  std::string created_by;
  std::string impersonator;  // the owner acting as the user named above, else empty
};

struct EnrollmentCodeRevokedInfo {
  EnrollmentCodeId code;
  std::string revoked_by;
  std::string impersonator;  // the owner acting as the user named above, else empty
};

struct AgentEnrolledInfo {
  AgentId agent;
  SiteId site;
  std::string public_key;
  std::string fingerprint_hash;
  EnrollmentCodeId code;
  std::string hostname;
  bool reenrolled = false;
  std::vector<std::string> retired_public_keys{};  // revoked by this re-enrollment
};

struct CloneSuspectedInfo {
  AgentId agent;
  std::string old_fingerprint_hash;
  std::string new_fingerprint_hash;
  AgentId new_agent;
};

struct AgentRevokedInfo {
  AgentId agent;
  std::vector<std::string> public_keys;
  std::string revoked_by;
  std::string reason;
  std::string impersonator;  // the owner acting as the user named above, else empty
};

// Wraps a finished payload in a ControlPlane envelope (for the builders of every control event).
std::vector<std::uint8_t> finish_control_event(flatbuffers::FlatBufferBuilder& fbb,
                                               const ControlEventHeader& h, schema::Payload type,
                                               flatbuffers::Offset<void> payload);

std::vector<std::uint8_t> build_client_created(const ControlEventHeader& h,
                                               const ClientCreatedInfo& v);
std::vector<std::uint8_t> build_site_created(const ControlEventHeader& h, const SiteCreatedInfo& v);
std::vector<std::uint8_t> build_enrollment_code_created(const ControlEventHeader& h,
                                                        const EnrollmentCodeCreatedInfo& v);
std::vector<std::uint8_t> build_enrollment_code_revoked(const ControlEventHeader& h,
                                                        const EnrollmentCodeRevokedInfo& v);
std::vector<std::uint8_t> build_agent_enrolled(const ControlEventHeader& h,
                                               const AgentEnrolledInfo& v);
std::vector<std::uint8_t> build_clone_suspected(const ControlEventHeader& h,
                                                const CloneSuspectedInfo& v);
std::vector<std::uint8_t> build_agent_revoked(const ControlEventHeader& h,
                                              const AgentRevokedInfo& v);

}  // namespace rmm::codec
