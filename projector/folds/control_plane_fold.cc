#include "projector/folds/control_plane_fold.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/event_codec.h"
#include "projector/folds/json_object.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxActorChars = 200;
// Unsigned sizes and timeouts are stored as bigint.
constexpr std::uint64_t kMaxBigint = std::numeric_limits<std::int64_t>::max();

Error bad(std::string_view why) {
  return Error{Error::Code::kInvalidInput, fmt::format("control event: {}", why)};
}

std::string text(const flatbuffers::String* s, std::size_t max_chars) {
  return s == nullptr ? std::string() : storable_text(s->string_view(), max_chars);
}

// The actor is required: every control-plane intent names who asked for it.
Result<codec::Actor> actor_of(const flatbuffers::String* actor,
                              const flatbuffers::String* impersonator) {
  if (actor == nullptr || actor->size() == 0) return std::unexpected(bad("actor is missing"));
  return codec::Actor{text(actor, kMaxActorChars), text(impersonator, kMaxActorChars)};
}

template <class T>
Result<T> required_id(const schema::Uuid* wire, std::string_view field) {
  UuidBytes bytes = codec::from_wire(wire);
  if (bytes == UuidBytes{}) return std::unexpected(bad(fmt::format("{} is missing", field)));
  return T(bytes);
}

Result<std::string> required_name(const flatbuffers::String* s) {
  if (s == nullptr || s->size() == 0) return std::unexpected(bad("no name"));
  return text(s, kMaxNameChars);
}

// Global scopes carry the nil id; the others need one.
Result<codec::ScopeRef> scope_ref(schema::PolicyScope scope, const schema::Uuid* wire,
                                  bool agent_allowed) {
  if (codec::scope_name(scope).empty()) return std::unexpected(bad("unknown scope"));
  if (scope == schema::PolicyScope::Agent && !agent_allowed) {
    return std::unexpected(bad("agent scope is not allowed here"));
  }
  codec::ScopeRef out{scope, codec::from_wire(wire)};
  if (scope == schema::PolicyScope::Global) {
    out.id = UuidBytes{};
  } else if (out.id == UuidBytes{}) {
    return std::unexpected(bad("scope_id is missing"));
  }
  return out;
}

Result<std::vector<codec::ScopeRef>> grants(
    const flatbuffers::Vector<flatbuffers::Offset<schema::ScopeGrant>>* wire) {
  std::vector<codec::ScopeRef> out;
  if (wire == nullptr) return out;
  if (wire->size() > kMaxUserScopes) return std::unexpected(bad("too many scopes"));
  for (const auto* g : *wire) {
    if (g == nullptr) return std::unexpected(bad("null scope grant"));
    auto ref = scope_ref(g->scope(), g->scope_id(), false);
    if (!ref) return std::unexpected(ref.error());
    out.push_back(*ref);
  }
  return out;
}

Result<schema::UserRole> role_of(schema::UserRole role) {
  if (codec::role_name(role).empty()) return std::unexpected(bad("unknown role"));
  return role;
}

}  // namespace

Result<ControlEvent::Change> decode_control_plane_change(const schema::Envelope& env) {
  switch (env.payload_type()) {
    case schema::Payload::ClientRenamed: {
      const auto* p = env.payload_as_ClientRenamed();
      auto id = required_id<ClientId>(p->client_id(), "client_id");
      auto name = required_name(p->name());
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !name || !by)
        return std::unexpected(!id ? id.error() : !name ? name.error() : by.error());
      return codec::ClientRenamedInfo{*id, *name, *by};
    }
    case schema::Payload::ClientDeleted: {
      const auto* p = env.payload_as_ClientDeleted();
      auto id = required_id<ClientId>(p->client_id(), "client_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !by) return std::unexpected(!id ? id.error() : by.error());
      return codec::ClientDeletedInfo{*id, *by};
    }
    case schema::Payload::SiteRenamed: {
      const auto* p = env.payload_as_SiteRenamed();
      auto id = required_id<SiteId>(p->site_id(), "site_id");
      auto name = required_name(p->name());
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !name || !by)
        return std::unexpected(!id ? id.error() : !name ? name.error() : by.error());
      return codec::SiteRenamedInfo{*id, *name, *by};
    }
    case schema::Payload::SiteDeleted: {
      const auto* p = env.payload_as_SiteDeleted();
      auto id = required_id<SiteId>(p->site_id(), "site_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !by) return std::unexpected(!id ? id.error() : by.error());
      return codec::SiteDeletedInfo{*id, *by};
    }
    case schema::Payload::PolicySet: {
      const auto* p = env.payload_as_PolicySet();
      auto scope = scope_ref(p->scope(), p->scope_id(), true);
      if (!scope) return std::unexpected(scope.error());
      auto by = actor_of(p->actor(), p->impersonator());
      if (!by) return std::unexpected(by.error());
      codec::PolicySetInfo info{*scope, {}, *by};
      if (p->values() != nullptr) {
        if (p->values()->size() > kMaxPolicyValues) return std::unexpected(bad("too many values"));
        for (const auto* v : *p->values()) {
          if (v == nullptr || v->key() == nullptr || v->key()->size() == 0) {
            return std::unexpected(bad("policy value without a key"));
          }
          if (v->key()->size() > kMaxPolicyKeyChars) return std::unexpected(bad("key too long"));
          info.values.emplace_back(text(v->key(), kMaxPolicyKeyChars),
                                   text(v->value(), kMaxPolicyValueChars));
        }
      }
      return info;
    }
    case schema::Payload::AlertAcknowledged: {
      const auto* p = env.payload_as_AlertAcknowledged();
      auto id = required_id<AlertId>(p->alert_id(), "alert_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !by) return std::unexpected(!id ? id.error() : by.error());
      return codec::AlertAcknowledgedInfo{*id, text(p->note(), kMaxNoteChars), *by};
    }
    case schema::Payload::AlertResolved: {
      const auto* p = env.payload_as_AlertResolved();
      auto id = required_id<AlertId>(p->alert_id(), "alert_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !by) return std::unexpected(!id ? id.error() : by.error());
      return codec::AlertResolvedInfo{*id, text(p->note(), kMaxNoteChars), *by};
    }
    case schema::Payload::AlertSuppressed: {
      const auto* p = env.payload_as_AlertSuppressed();
      auto id = required_id<AlertId>(p->alert_id(), "alert_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !by) return std::unexpected(!id ? id.error() : by.error());
      return codec::AlertSuppressedInfo{*id, p->until_ns(), *by};
    }
    case schema::Payload::ClockTick: {
      const auto* p = env.payload_as_ClockTick();
      if (p->tick_ns() <= 0) return std::unexpected(bad("tick_ns must be positive"));
      return codec::ClockTickInfo{p->tick_ns()};
    }
    case schema::Payload::UserCreated: {
      const auto* p = env.payload_as_UserCreated();
      auto id = required_id<UserId>(p->user_id(), "user_id");
      if (!id) return std::unexpected(id.error());
      if (p->username() == nullptr || p->username()->size() == 0) {
        return std::unexpected(bad("no username"));
      }
      auto role = role_of(p->role());
      auto scopes = grants(p->scopes());
      auto by = actor_of(p->actor(), p->impersonator());
      if (!role || !scopes || !by) {
        return std::unexpected(!role ? role.error() : !scopes ? scopes.error() : by.error());
      }
      return codec::UserCreatedInfo{*id,
                                    text(p->username(), kMaxNameChars),
                                    text(p->display_name(), kMaxNameChars),
                                    *role,
                                    std::move(*scopes),
                                    *by};
    }
    case schema::Payload::UserUpdated: {
      const auto* p = env.payload_as_UserUpdated();
      auto id = required_id<UserId>(p->user_id(), "user_id");
      auto role = role_of(p->role());
      auto scopes = grants(p->scopes());
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id) return std::unexpected(id.error());
      if (!role || !scopes || !by) {
        return std::unexpected(!role ? role.error() : !scopes ? scopes.error() : by.error());
      }
      return codec::UserUpdatedInfo{*id, *role, std::move(*scopes), p->disabled(), *by};
    }
    case schema::Payload::CommandIssued: {
      const auto* p = env.payload_as_CommandIssued();
      auto id = required_id<CommandId>(p->command_id(), "command_id");
      auto agent = required_id<AgentId>(p->agent_id(), "agent_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !agent || !by) {
        return std::unexpected(!id ? id.error() : !agent ? agent.error() : by.error());
      }
      return codec::CommandIssuedInfo{*id,
                                      *agent,
                                      text(p->kind(), kMaxNameChars),
                                      text(p->summary(), kMaxSummaryChars),
                                      std::min<std::uint64_t>(p->timeout_ms(), kMaxBigint),
                                      p->expires_at_ns(),
                                      *by,
                                      codec::from_wire(p->batch_id())};
    }
    case schema::Payload::AgentMoved: {
      const auto* p = env.payload_as_AgentMoved();
      auto agent = required_id<AgentId>(p->agent_id(), "agent_id");
      auto from = required_id<SiteId>(p->from_site_id(), "from_site_id");
      auto to = required_id<SiteId>(p->to_site_id(), "to_site_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!agent || !from || !to || !by) {
        return std::unexpected(!agent  ? agent.error()
                               : !from ? from.error()
                               : !to   ? to.error()
                                       : by.error());
      }
      return codec::AgentMovedInfo{*agent, *from, *to, *by};
    }
    case schema::Payload::CommandCancelRequested: {
      const auto* p = env.payload_as_CommandCancelRequested();
      auto id = required_id<CommandId>(p->command_id(), "command_id");
      auto agent = required_id<AgentId>(p->agent_id(), "agent_id");
      auto by = actor_of(p->actor(), p->impersonator());
      if (!id || !agent || !by) {
        return std::unexpected(!id ? id.error() : !agent ? agent.error() : by.error());
      }
      return codec::CommandCancelRequestedInfo{
          *id, *agent, CommandId(codec::from_wire(p->cancel_command_id())), *by};
    }
    case schema::Payload::ReleasePublished: {
      const auto* p = env.payload_as_ReleasePublished();
      const auto version = text(p->version(), kMaxNameChars);
      const auto platform = text(p->platform(), kMaxNameChars);
      const auto arch = text(p->arch(), kMaxNameChars);
      return AuditOnly{text(p->actor(), kMaxActorChars), "", "release",
                       fmt::format("{}/{}/{}", version, platform, arch),
                       JsonObject()
                           .str("version", version)
                           .str("platform", platform)
                           .str("arch", arch)
                           .num("size", static_cast<std::int64_t>(
                                            std::min<std::uint64_t>(p->size(), kMaxBigint)))
                           .str("sha256", text(p->sha256(), kMaxNameChars))
                           .str("key_id", text(p->key_id(), kMaxNameChars))
                           .take()};
    }
    case schema::Payload::RolloutCreated: {
      const auto* p = env.payload_as_RolloutCreated();
      auto id = required_id<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      JsonObject d;
      d.str("version", text(p->version(), kMaxNameChars))
          .str("platform", text(p->platform(), kMaxNameChars))
          .str("arch", text(p->arch(), kMaxNameChars))
          .str("scope", codec::scope_name(p->scope()));
      if (p->scope() != schema::PolicyScope::Global) {
        d.str("scope_id", uuid_to_string(codec::from_wire(p->scope_id())));
      }
      d.num("rings", p->rings() == nullptr ? 0 : p->rings()->size());
      return AuditOnly{text(p->actor(), kMaxActorChars), text(p->impersonator(), kMaxActorChars),
                       "rollout", id->str(), d.take()};
    }
    case schema::Payload::RolloutRingStarted: {
      const auto* p = env.payload_as_RolloutRingStarted();
      auto id = required_id<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      return AuditOnly{"", "", "rollout", id->str(),
                       JsonObject()
                           .num("ring_index", p->ring_index())
                           .num("agents", p->agent_ids() == nullptr ? 0 : p->agent_ids()->size())
                           .take()};
    }
    case schema::Payload::RolloutHalted: {
      const auto* p = env.payload_as_RolloutHalted();
      auto id = required_id<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      return AuditOnly{text(p->actor(), kMaxActorChars), text(p->impersonator(), kMaxActorChars),
                       "rollout", id->str(),
                       JsonObject().str("reason", text(p->reason(), kMaxNoteChars)).take()};
    }
    case schema::Payload::RolloutCompleted: {
      const auto* p = env.payload_as_RolloutCompleted();
      auto id = required_id<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      return AuditOnly{"", "", "rollout", id->str(), "{}"};
    }
    default:
      return std::unexpected(bad("payload is not a control event this projector folds"));
  }
}

}  // namespace rmm::projector
