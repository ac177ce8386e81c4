#include "projector/folds/control_plane_fold.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "common/event_codec.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxActorChars = 200;
// timeout_ms is stored as bigint.
constexpr std::uint64_t kMaxTimeoutMs = std::numeric_limits<std::int64_t>::max();

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

bool is_control_plane_payload(schema::Payload type) {
  auto t = static_cast<int>(type);
  return t >= static_cast<int>(schema::Payload::ClientRenamed) &&
         t <= static_cast<int>(schema::Payload::CommandCancelRequested);
}

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
                                      std::min<std::uint64_t>(p->timeout_ms(), kMaxTimeoutMs),
                                      p->expires_at_ns(),
                                      *by};
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
    default:
      return std::unexpected(bad("payload is not a control event this projector folds"));
  }
}

}  // namespace rmm::projector
