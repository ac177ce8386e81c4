#include "projector/folds/audit.h"

#include <fmt/format.h>

#include "common/event_codec.h"
#include "projector/folds/json_object.h"

namespace rmm::projector {
namespace {

using Json = JsonObject;

std::string scopes_json(const std::vector<codec::ScopeRef>& scopes) {
  std::string out = "[";
  for (const auto& s : scopes) {
    if (out.size() > 1) out += ',';
    out += Json().str("scope", codec::scope_name(s.scope)).str("id", uuid_to_string(s.id)).take();
  }
  return out + "]";
}

struct Build {
  AuditEntry& e;

  void by(const codec::Actor& a) {
    e.actor = a.actor;
    e.impersonator = a.impersonator;
  }
  // The first control events name their actor in created_by/revoked_by and, appended later, the
  // impersonating owner (empty when nobody impersonated).
  void by(const std::string& actor, const std::string& impersonator) {
    e.actor = actor;
    e.impersonator = impersonator;
  }
  void target(std::string_view kind, std::string id) {
    e.target_kind = kind;
    e.target_id = std::move(id);
  }

  void operator()(const codec::ClientCreatedInfo& v) {
    by(v.created_by, v.impersonator);
    target("client", v.client.str());
    e.client = v.client.bytes();
    e.detail = Json().str("name", v.name).str("partner_id", v.partner.str()).take();
  }
  void operator()(const codec::SiteCreatedInfo& v) {
    by(v.created_by, v.impersonator);
    target("site", v.site.str());
    e.site = v.site.bytes();
    e.client = v.client.bytes();
    e.detail = Json().str("name", v.name).str("client_id", v.client.str()).take();
  }
  void operator()(const codec::EnrollmentCodeCreatedInfo& v) {
    by(v.created_by, v.impersonator);
    target("enrollment_code", v.code.str());
    e.site = v.site.bytes();
    e.detail = Json().str("site_id", v.site.str()).num("expires_at_ns", v.expires_at).take();
  }
  void operator()(const codec::EnrollmentCodeRevokedInfo& v) {
    by(v.revoked_by, v.impersonator);
    target("enrollment_code", v.code.str());
    e.enrollment_code = v.code.bytes();
  }
  void operator()(const codec::AgentEnrolledInfo& v) {
    target("agent", v.agent.str());
    e.site = v.site.bytes();
    e.agent = v.agent.bytes();
    e.detail = Json()
                   .str("site_id", v.site.str())
                   .str("hostname", v.hostname)
                   .str("enrollment_code_id", v.code.str())
                   .str("public_key", v.public_key)
                   .boolean("reenrolled", v.reenrolled)
                   .num("retired_keys", static_cast<std::int64_t>(v.retired_public_keys.size()))
                   .take();
  }
  void operator()(const codec::CloneSuspectedInfo& v) {
    target("agent", v.agent.str());
    e.agent = v.agent.bytes();
    e.detail = Json().str("new_agent_id", v.new_agent.str()).take();
  }
  void operator()(const codec::AgentRevokedInfo& v) {
    by(v.revoked_by, v.impersonator);
    target("agent", v.agent.str());
    e.agent = v.agent.bytes();
    e.detail = Json()
                   .str("reason", v.reason)
                   .num("public_keys", static_cast<std::int64_t>(v.public_keys.size()))
                   .take();
  }
  void operator()(const codec::ClientRenamedInfo& v) {
    by(v.by);
    target("client", v.client.str());
    e.client = v.client.bytes();
    e.detail = Json().str("name", v.name).take();
  }
  void operator()(const codec::ClientDeletedInfo& v) {
    by(v.by);
    target("client", v.client.str());
    e.client = v.client.bytes();
  }
  void operator()(const codec::SiteRenamedInfo& v) {
    by(v.by);
    target("site", v.site.str());
    e.site = v.site.bytes();
    e.detail = Json().str("name", v.name).take();
  }
  void operator()(const codec::SiteDeletedInfo& v) {
    by(v.by);
    target("site", v.site.str());
    e.site = v.site.bytes();
  }
  void operator()(const codec::PolicySetInfo& v) {
    by(v.by);
    const auto scope = codec::scope_name(v.scope.scope);
    const bool global = v.scope.scope == schema::PolicyScope::Global;
    target("policy",
           global ? std::string(scope) : fmt::format("{}:{}", scope, uuid_to_string(v.scope.id)));
    if (v.scope.scope == schema::PolicyScope::Client) e.client = v.scope.id;
    if (v.scope.scope == schema::PolicyScope::Site) e.site = v.scope.id;
    if (v.scope.scope == schema::PolicyScope::Agent) e.agent = v.scope.id;
    Json settings;
    for (const auto& [key, value] : v.values) settings.str(key, value);
    Json d;
    d.str("scope", scope);
    if (!global) d.str("scope_id", uuid_to_string(v.scope.id));
    e.detail = d.raw("settings", settings.take()).take();
  }
  void operator()(const codec::AlertAcknowledgedInfo& v) {
    by(v.by);
    target("alert", v.alert.str());
    e.alert = v.alert.bytes();
    e.detail = Json().str("note", v.note).take();
  }
  void operator()(const codec::AlertResolvedInfo& v) {
    by(v.by);
    target("alert", v.alert.str());
    e.alert = v.alert.bytes();
    e.detail = Json().str("note", v.note).take();
  }
  void operator()(const codec::AlertSuppressedInfo& v) {
    by(v.by);
    target("alert", v.alert.str());
    e.alert = v.alert.bytes();
    e.detail = Json().num("until_ns", v.until).take();
  }
  void operator()(const codec::ClockTickInfo&) {}
  void operator()(const AuditOnly& v) {
    e.actor = v.actor;
    e.impersonator = v.impersonator;
    target(v.target_kind, v.target_id);
    if (!v.detail.empty()) e.detail = v.detail;
  }
  void operator()(const codec::UserCreatedInfo& v) {
    by(v.by);
    target("user", v.user.str());
    e.detail = Json()
                   .str("username", v.username)
                   .str("display_name", v.display_name)
                   .str("role", codec::role_name(v.role))
                   .raw("scopes", scopes_json(v.scopes))
                   .take();
  }
  void operator()(const codec::UserUpdatedInfo& v) {
    by(v.by);
    target("user", v.user.str());
    e.detail = Json()
                   .str("role", codec::role_name(v.role))
                   .boolean("disabled", v.disabled)
                   .raw("scopes", scopes_json(v.scopes))
                   .take();
  }
  void operator()(const codec::CommandIssuedInfo& v) {
    by(v.by);
    target("command", v.command.str());
    e.agent = v.agent.bytes();
    Json detail;
    detail.str("agent_id", v.agent.str())
        .str("kind", v.kind)
        .str("summary", v.summary)
        .num("timeout_ms", static_cast<std::int64_t>(v.timeout_ms))
        .num("expires_at_ns", v.expires_at);
    if (v.batch != UuidBytes{}) detail.str("batch_id", uuid_to_string(v.batch));
    e.detail = detail.take();
  }
  void operator()(const codec::AgentMovedInfo& v) {
    by(v.by);
    target("agent", v.agent.str());
    e.agent = v.agent.bytes();
    e.site = v.to.bytes();
    e.detail = Json().str("from_site_id", v.from.str()).str("to_site_id", v.to.str()).take();
  }
  void operator()(const codec::CommandCancelRequestedInfo& v) {
    by(v.by);
    target("command", v.command.str());
    e.agent = v.agent.bytes();
    e.detail = Json()
                   .str("agent_id", v.agent.str())
                   .str("cancel_command_id", v.cancel_command.str())
                   .take();
  }
};

}  // namespace

std::optional<AuditEntry> audit_entry(const ControlEvent& event) {
  if (std::holds_alternative<codec::ClockTickInfo>(event.change)) return std::nullopt;
  AuditEntry e;
  e.occurred_at = event.occurred_at;
  e.detail = "{}";
  std::visit(Build{e}, event.change);
  e.action = codec::control_type_token(event.type);
  if (e.actor.empty()) e.actor = event.source_name.empty() ? "unknown" : event.source_name;
  return e;
}

}  // namespace rmm::projector
