// The control-plane folds as pure functions: each event type decoded from its wire form into its
// typed change (or a dead letter), and the audit row it writes.
#include <doctest/doctest.h>

#include "common/control_plane_events.h"
#include "projector/folds/audit.h"
#include "projector/folds/control_plane_fold.h"
#include "projector/folds/decode.h"

using namespace rmm;
using namespace rmm::projector;

namespace {

const ClientId kClient = *ClientId::parse("0190a5c2-0000-7000-8000-0000000000c1");
const SiteId kSite = *SiteId::parse("0190a5c2-0000-7000-8000-0000000000d1");
const AgentId kAgent = *AgentId::parse("0190a5c2-0000-7000-8000-0000000000a1");
const UserId kUser = *UserId::parse("0190a5c2-0000-7000-8000-0000000000e1");
const AlertId kAlert = *AlertId::parse("0190a5c2-0000-7000-8000-0000000000f1");
const CommandId kCommand = *CommandId::parse("0190a5c2-0000-7000-8000-0000000000b1");
constexpr UnixNanos kAt = 1'700'000'000'000'000'000;
const codec::Actor kBy{"user:alice", "user:owner"};

codec::ControlEventHeader header() {
  FakeClock clock;
  return {.event_id = EventId::generate(clock),
          .source = ControlSourceId::generate(clock),
          .source_name = "api",
          .seq = 7,
          .occurred_at = kAt};
}

Decoded decode(schema::Payload type, const std::vector<std::uint8_t>& bytes) {
  return decode_message(codec::control_event_subject(type), bytes);
}

template <class Info>
Info decoded_as(schema::Payload type, const std::vector<std::uint8_t>& bytes) {
  auto d = decode(type, bytes);
  if (const auto* dl = std::get_if<DeadLetter>(&d)) FAIL("dead letter: " << dl->reason);
  const auto* ce = std::get_if<ControlEvent>(&d);
  REQUIRE(ce != nullptr);
  CHECK(ce->occurred_at == kAt);
  CHECK(ce->type == type);
  CHECK(ce->source_name == "api");
  const auto* info = std::get_if<Info>(&ce->change);
  REQUIRE(info != nullptr);
  return *info;
}

std::string dead_reason(schema::Payload type, const std::vector<std::uint8_t>& bytes) {
  auto d = decode(type, bytes);
  const auto* dl = std::get_if<DeadLetter>(&d);
  REQUIRE(dl != nullptr);
  return dl->reason;
}

AuditEntry audit_of(schema::Payload type, const std::vector<std::uint8_t>& bytes) {
  auto d = decode(type, bytes);
  const auto* ce = std::get_if<ControlEvent>(&d);
  REQUIRE(ce != nullptr);
  auto e = audit_entry(*ce);
  REQUIRE(e.has_value());
  return *e;
}

}  // namespace

TEST_CASE("ClientRenamed, ClientDeleted, SiteRenamed, SiteDeleted decode with their actor") {
  auto bytes = codec::build_client_renamed(header(), {kClient, "Acme \xff Corp", kBy});
  auto r = decoded_as<codec::ClientRenamedInfo>(schema::Payload::ClientRenamed, bytes);
  CHECK(r.client == kClient);
  CHECK(r.name == "Acme \xEF\xBF\xBD Corp");  // invalid UTF-8 made storable
  CHECK(r.by.actor == "user:alice");
  CHECK(r.by.impersonator == "user:owner");
  auto a = audit_of(schema::Payload::ClientRenamed, bytes);
  CHECK(a.action == "client_renamed");
  CHECK(a.target_kind == "client");
  CHECK(a.target_id == kClient.str());
  CHECK(a.client == kClient.bytes());
  CHECK(a.impersonator == "user:owner");
  CHECK(a.detail == R"({"name":"Acme )"
                    "\xEF\xBF\xBD"
                    R"( Corp"})");

  auto d = decoded_as<codec::ClientDeletedInfo>(
      schema::Payload::ClientDeleted, codec::build_client_deleted(header(), {kClient, kBy}));
  CHECK(d.client == kClient);
  auto s = decoded_as<codec::SiteRenamedInfo>(
      schema::Payload::SiteRenamed, codec::build_site_renamed(header(), {kSite, "HQ", kBy}));
  CHECK(s.name == "HQ");
  auto sa =
      audit_of(schema::Payload::SiteDeleted, codec::build_site_deleted(header(), {kSite, kBy}));
  CHECK(sa.action == "site_deleted");
  CHECK(sa.site == kSite.bytes());
  CHECK_FALSE(sa.client.has_value());  // resolved by the writer from the site

  CHECK(dead_reason(schema::Payload::ClientRenamed,
                    codec::build_client_renamed(header(), {kClient, "", kBy}))
            .find("no name") != std::string::npos);
  CHECK(dead_reason(schema::Payload::SiteDeleted,
                    codec::build_site_deleted(header(), {kSite, {"", ""}}))
            .find("actor") != std::string::npos);
  CHECK(dead_reason(schema::Payload::ClientDeleted,
                    codec::build_client_deleted(header(), {ClientId(), kBy}))
            .find("client_id") != std::string::npos);
}

TEST_CASE("PolicySet decodes every scope; a non-global scope needs an id; audit lists settings") {
  codec::PolicySetInfo in{{schema::PolicyScope::Site, kSite.bytes()},
                          {{"alert.cpu.percent", "80"}, {"unknown.key", "x"}},
                          kBy};
  auto bytes = codec::build_policy_set(header(), in);
  auto p = decoded_as<codec::PolicySetInfo>(schema::Payload::PolicySet, bytes);
  CHECK(p.scope.scope == schema::PolicyScope::Site);
  CHECK(p.scope.id == kSite.bytes());
  REQUIRE(p.values.size() == 2);  // unknown keys reach the store; the merge ignores them
  CHECK(p.values[1].first == "unknown.key");
  auto a = audit_of(schema::Payload::PolicySet, bytes);
  CHECK(a.target_kind == "policy");
  CHECK(a.target_id == "site:" + kSite.str());
  CHECK(a.site == kSite.bytes());
  CHECK(a.detail == R"({"scope":"site","scope_id":")" + kSite.str() +
                        R"(","settings":{"alert.cpu.percent":"80","unknown.key":"x"}})");

  // Global ignores any id; agent scope is allowed for policies.
  auto g = decoded_as<codec::PolicySetInfo>(
      schema::Payload::PolicySet,
      codec::build_policy_set(header(), {{schema::PolicyScope::Global, kSite.bytes()}, {}, kBy}));
  CHECK(g.scope.id == UuidBytes{});
  CHECK(audit_of(schema::Payload::PolicySet,
                 codec::build_policy_set(header(), {{schema::PolicyScope::Global, {}}, {}, kBy}))
            .target_id == "global");
  auto ag = decoded_as<codec::PolicySetInfo>(
      schema::Payload::PolicySet,
      codec::build_policy_set(header(), {{schema::PolicyScope::Agent, kAgent.bytes()}, {}, kBy}));
  CHECK(ag.scope.scope == schema::PolicyScope::Agent);

  CHECK(dead_reason(schema::Payload::PolicySet,
                    codec::build_policy_set(header(), {{schema::PolicyScope::Client, {}}, {}, kBy}))
            .find("scope_id") != std::string::npos);
  codec::PolicySetInfo too_many{{schema::PolicyScope::Global, {}}, {}, kBy};
  for (std::size_t i = 0; i <= kMaxPolicyValues; ++i) {
    too_many.values.emplace_back("k" + std::to_string(i), "v");
  }
  CHECK(dead_reason(schema::Payload::PolicySet, codec::build_policy_set(header(), too_many))
            .find("too many") != std::string::npos);
}

TEST_CASE("alert handling events decode and are audited against the alert") {
  auto ack = decoded_as<codec::AlertAcknowledgedInfo>(
      schema::Payload::AlertAcknowledged,
      codec::build_alert_acknowledged(header(), {kAlert, "looking", kBy}));
  CHECK(ack.alert == kAlert);
  CHECK(ack.note == "looking");
  auto res = decoded_as<codec::AlertResolvedInfo>(
      schema::Payload::AlertResolved, codec::build_alert_resolved(header(), {kAlert, "", kBy}));
  CHECK(res.alert == kAlert);
  auto sup_bytes = codec::build_alert_suppressed(header(), {kAlert, kAt + 1000, kBy});
  auto sup = decoded_as<codec::AlertSuppressedInfo>(schema::Payload::AlertSuppressed, sup_bytes);
  CHECK(sup.until == kAt + 1000);
  auto a = audit_of(schema::Payload::AlertSuppressed, sup_bytes);
  CHECK(a.target_kind == "alert");
  CHECK(a.alert == kAlert.bytes());
  CHECK(a.detail == fmt::format(R"({{"until_ns":{}}})", kAt + 1000));
  CHECK(dead_reason(schema::Payload::AlertResolved,
                    codec::build_alert_resolved(header(), {AlertId(), "", kBy}))
            .find("alert_id") != std::string::npos);
}

TEST_CASE("ClockTick decodes its tick and writes no audit row") {
  auto bytes = codec::build_clock_tick(header(), {kAt});
  auto t = decoded_as<codec::ClockTickInfo>(schema::Payload::ClockTick, bytes);
  CHECK(t.tick == kAt);
  auto d = decode(schema::Payload::ClockTick, bytes);
  CHECK_FALSE(audit_entry(std::get<ControlEvent>(d)).has_value());
  CHECK(dead_reason(schema::Payload::ClockTick, codec::build_clock_tick(header(), {0}))
            .find("tick_ns") != std::string::npos);
}

TEST_CASE("UserCreated and UserUpdated decode roles and scopes; agent scopes are refused") {
  codec::UserCreatedInfo in{
      kUser,
      "alice",
      "Alice",
      schema::UserRole::Technician,
      {{schema::PolicyScope::Client, kClient.bytes()}, {schema::PolicyScope::Global, {}}},
      kBy};
  auto bytes = codec::build_user_created(header(), in);
  auto u = decoded_as<codec::UserCreatedInfo>(schema::Payload::UserCreated, bytes);
  CHECK(u.user == kUser);
  CHECK(u.username == "alice");
  CHECK(u.role == schema::UserRole::Technician);
  REQUIRE(u.scopes.size() == 2);
  CHECK(u.scopes[0].id == kClient.bytes());
  auto a = audit_of(schema::Payload::UserCreated, bytes);
  CHECK(a.target_kind == "user");
  CHECK(a.detail.find(R"("role":"technician")") != std::string::npos);
  CHECK(a.detail.find(R"("scopes":[{"scope":"client","id":")" + kClient.str()) !=
        std::string::npos);

  auto up = decoded_as<codec::UserUpdatedInfo>(
      schema::Payload::UserUpdated,
      codec::build_user_updated(header(), {kUser, schema::UserRole::Admin, {}, true, kBy}));
  CHECK(up.disabled);
  CHECK(up.role == schema::UserRole::Admin);

  in.scopes = {{schema::PolicyScope::Agent, kAgent.bytes()}};
  CHECK(dead_reason(schema::Payload::UserCreated, codec::build_user_created(header(), in))
            .find("agent scope") != std::string::npos);
  in.scopes = {};
  in.role = static_cast<schema::UserRole>(9);
  CHECK(dead_reason(schema::Payload::UserCreated, codec::build_user_created(header(), in))
            .find("role") != std::string::npos);
  in.role = schema::UserRole::Owner;
  in.username = "";
  CHECK(dead_reason(schema::Payload::UserCreated, codec::build_user_created(header(), in))
            .find("username") != std::string::npos);
}

TEST_CASE("CommandIssued and CommandCancelRequested decode and are audited against the agent") {
  codec::CommandIssuedInfo in{kCommand, kAgent, "shell", "uptime", 30'000, kAt + 60, kBy};
  auto bytes = codec::build_command_issued(header(), in);
  auto c = decoded_as<codec::CommandIssuedInfo>(schema::Payload::CommandIssued, bytes);
  CHECK(c.command == kCommand);
  CHECK(c.agent == kAgent);
  CHECK(c.summary == "uptime");
  CHECK(c.timeout_ms == 30'000);
  auto a = audit_of(schema::Payload::CommandIssued, bytes);
  CHECK(a.target_kind == "command");
  CHECK(a.agent == kAgent.bytes());
  CHECK(a.detail.find(R"("summary":"uptime")") != std::string::npos);

  const CommandId cancel = *CommandId::parse("0190a5c2-0000-7000-8000-0000000000b2");
  auto x = decoded_as<codec::CommandCancelRequestedInfo>(
      schema::Payload::CommandCancelRequested,
      codec::build_command_cancel_requested(header(), {kCommand, kAgent, cancel, kBy}));
  CHECK(x.cancel_command == cancel);
  in.agent = AgentId();
  CHECK(dead_reason(schema::Payload::CommandIssued, codec::build_command_issued(header(), in))
            .find("agent_id") != std::string::npos);
}

TEST_CASE(
    "tenancy and enrollment events are audited too; a missing actor falls back to the source") {
  FakeClock clock;
  auto client = codec::build_client_created(
      header(), {kClient, *PartnerId::parse(kDefaultPartnerId), "Acme", "admin:root"});
  auto a = audit_of(schema::Payload::ClientCreated, client);
  CHECK(a.actor == "admin:root");
  CHECK(a.action == "client_created");
  CHECK(a.client == kClient.bytes());
  auto revoked = codec::build_agent_revoked(header(), {kAgent, {}, "", "stolen laptop"});
  auto r = audit_of(schema::Payload::AgentRevoked, revoked);
  CHECK(r.actor == "api");
  CHECK(r.agent == kAgent.bytes());
  CHECK(r.detail == R"({"reason":"stolen laptop","public_keys":0})");
}

TEST_CASE("release and rollout events are kept in the audit log only") {
  const RolloutId rollout(*uuid_from_string("0190a5c2-0000-7000-8000-000000000099"));
  auto done = audit_of(schema::Payload::RolloutCompleted,
                       codec::build_rollout_completed(header(), {rollout}));
  CHECK(done.action == "rollout_completed");
  CHECK(done.actor == "api");  // no actor in the payload: the publishing service
  CHECK(done.target_kind == "rollout");
  CHECK(done.target_id == rollout.str());
  codec::ReleasePublishedInfo release{.version = "1.2.0",
                                      .platform = "linux",
                                      .arch = "x86_64",
                                      .size = 1000,
                                      .sha256 = std::string(64, 'c'),
                                      .manifest = "{}",
                                      .signature = "sig",
                                      .key_id = "k1",
                                      .actor = "admin:root"};
  auto pub = audit_of(schema::Payload::ReleasePublished,
                      codec::build_release_published(header(), release));
  CHECK(pub.actor == "admin:root");
  CHECK(pub.target_id == "1.2.0/linux/x86_64");
  CHECK(pub.detail.find(R"("size":1000)") != std::string::npos);
  CHECK(pub.detail.find("sig") == std::string::npos);  // neither signature nor manifest
  auto halted =
      audit_of(schema::Payload::RolloutHalted,
               codec::build_rollout_halted(header(), {rollout, "too many failures", "user:alice"}));
  CHECK(halted.detail == R"({"reason":"too many failures"})");
  CHECK(dead_reason(schema::Payload::RolloutCompleted,
                    codec::build_rollout_completed(header(), {RolloutId()}))
            .find("rollout_id") != std::string::npos);
}

TEST_CASE("the first tenancy events carry the impersonating owner into the audit log") {
  const auto partner = *PartnerId::parse(kDefaultPartnerId);
  const auto code = *EnrollmentCodeId::parse("0190a5c2-0000-7000-8000-0000000000c9");
  auto created = audit_of(schema::Payload::ClientCreated,
                          codec::build_client_created(
                              header(), {kClient, partner, "Acme", "user:alice", "user:owner"}));
  CHECK(created.actor == "user:alice");
  CHECK(created.impersonator == "user:owner");
  auto site = audit_of(
      schema::Payload::SiteCreated,
      codec::build_site_created(header(), {kSite, kClient, "HQ", "user:alice", "user:owner"}));
  CHECK(site.impersonator == "user:owner");
  auto revoked =
      audit_of(schema::Payload::EnrollmentCodeRevoked,
               codec::build_enrollment_code_revoked(header(), {code, "user:alice", "user:owner"}));
  CHECK(revoked.impersonator == "user:owner");
  // rmm-admin and unimpersonated users leave it empty.
  auto plain =
      audit_of(schema::Payload::ClientCreated,
               codec::build_client_created(header(), {kClient, partner, "Acme", "admin:root", ""}));
  CHECK(plain.actor == "admin:root");
  CHECK(plain.impersonator.empty());
}
