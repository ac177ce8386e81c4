#include "projector/folds/control_fold.h"

#include <fmt/format.h>

#include "common/event_codec.h"
#include "projector/folds/control_plane_fold.h"
#include "projector/folds/release_fold.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

constexpr std::size_t kMaxNameChars = 200;
constexpr std::size_t kMaxActorChars = 200;
constexpr std::size_t kMaxKeysPerRevocation = 1000;

Error bad(std::string_view why) {
  return Error{Error::Code::kInvalidInput, fmt::format("control event: {}", why)};
}

// Reads the required ids of a payload; the first missing one is remembered and reported once.
struct RequiredIds {
  std::string_view missing;

  template <class T>
  T get(const schema::Uuid* wire, std::string_view field) {
    UuidBytes bytes = codec::from_wire(wire);
    if (bytes == UuidBytes{} && missing.empty()) missing = field;
    return T(bytes);
  }
  std::optional<Error> error() const {
    if (missing.empty()) return std::nullopt;
    return bad(fmt::format("{} is missing", missing));
  }
};

std::string text(const flatbuffers::String* s, std::size_t max_chars) {
  return s == nullptr ? std::string() : storable_text(s->string_view(), max_chars);
}

// Lower-case hex SHA-256.
bool is_sha256_hex(const flatbuffers::String* s) {
  if (s == nullptr || s->size() != 64) return false;
  for (char c : s->string_view()) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// An NKey user public key: 'U' and 55 more base32 characters.
bool is_user_key(std::string_view s) {
  if (s.size() != 56 || s[0] != 'U') return false;
  for (char c : s) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'))) return false;
  }
  return true;
}

Result<ControlEvent::Change> decode_change(const schema::Envelope& env) {
  switch (env.payload_type()) {
    case schema::Payload::ClientCreated: {
      const auto* p = env.payload_as_ClientCreated();
      RequiredIds ids;
      const auto client = ids.get<ClientId>(p->client_id(), "client_id");
      const auto partner = ids.get<PartnerId>(p->partner_id(), "partner_id");
      if (auto e = ids.error()) return std::unexpected(*e);
      if (p->name() == nullptr || p->name()->size() == 0) return std::unexpected(bad("no name"));
      return codec::ClientCreatedInfo{client, partner, text(p->name(), kMaxNameChars),
                                      text(p->created_by(), kMaxActorChars),
                                      text(p->impersonator(), kMaxActorChars)};
    }
    case schema::Payload::SiteCreated: {
      const auto* p = env.payload_as_SiteCreated();
      RequiredIds ids;
      const auto site = ids.get<SiteId>(p->site_id(), "site_id");
      const auto client = ids.get<ClientId>(p->client_id(), "client_id");
      if (auto e = ids.error()) return std::unexpected(*e);
      if (p->name() == nullptr || p->name()->size() == 0) return std::unexpected(bad("no name"));
      return codec::SiteCreatedInfo{site, client, text(p->name(), kMaxNameChars),
                                    text(p->created_by(), kMaxActorChars),
                                    text(p->impersonator(), kMaxActorChars)};
    }
    case schema::Payload::EnrollmentCodeCreated: {
      const auto* p = env.payload_as_EnrollmentCodeCreated();
      RequiredIds ids;
      const auto code = ids.get<EnrollmentCodeId>(p->code_id(), "code_id");
      const auto site = ids.get<SiteId>(p->site_id(), "site_id");
      if (auto e = ids.error()) return std::unexpected(*e);
      if (!is_sha256_hex(p->code_hash())) {
        return std::unexpected(bad("code_hash is not a lower-case hex SHA-256"));
      }
      return codec::EnrollmentCodeCreatedInfo{code,
                                              site,
                                              p->code_hash()->str(),
                                              p->expires_at_ns(),
                                              text(p->created_by(), kMaxActorChars),
                                              text(p->impersonator(), kMaxActorChars)};
    }
    case schema::Payload::EnrollmentCodeRevoked: {
      const auto* p = env.payload_as_EnrollmentCodeRevoked();
      RequiredIds ids;
      const auto code = ids.get<EnrollmentCodeId>(p->code_id(), "code_id");
      if (auto e = ids.error()) return std::unexpected(*e);
      return codec::EnrollmentCodeRevokedInfo{code, text(p->revoked_by(), kMaxActorChars),
                                              text(p->impersonator(), kMaxActorChars)};
    }
    case schema::Payload::AgentEnrolled: {
      const auto* p = env.payload_as_AgentEnrolled();
      RequiredIds ids;
      const auto agent = ids.get<AgentId>(p->agent_id(), "agent_id");
      const auto site = ids.get<SiteId>(p->site_id(), "site_id");
      const auto code = ids.get<EnrollmentCodeId>(p->enrollment_code_id(), "enrollment_code_id");
      if (auto e = ids.error()) return std::unexpected(*e);
      if (p->public_key() == nullptr || !is_user_key(p->public_key()->string_view())) {
        return std::unexpected(bad("public_key is not an NKey user key"));
      }
      if (!is_sha256_hex(p->fingerprint_hash())) {
        return std::unexpected(bad("fingerprint_hash is not a lower-case hex SHA-256"));
      }
      codec::AgentEnrolledInfo info{agent,
                                    site,
                                    p->public_key()->str(),
                                    p->fingerprint_hash()->str(),
                                    code,
                                    text(p->hostname(), kMaxAgentTextChars),
                                    p->reenrolled(),
                                    {}};
      if (p->retired_public_keys() != nullptr) {
        if (p->retired_public_keys()->size() > kMaxKeysPerRevocation) {
          return std::unexpected(bad("too many retired public keys"));
        }
        for (const auto* k : *p->retired_public_keys()) {
          if (k == nullptr || !is_user_key(k->string_view())) {
            return std::unexpected(bad("retired_public_keys holds a non-user key"));
          }
          info.retired_public_keys.push_back(k->str());
        }
      }
      return info;
    }
    case schema::Payload::CloneSuspected: {
      const auto* p = env.payload_as_CloneSuspected();
      RequiredIds ids;
      const auto agent = ids.get<AgentId>(p->agent_id(), "agent_id");
      const auto new_agent = ids.get<AgentId>(p->new_agent_id(), "new_agent_id");
      if (auto e = ids.error()) return std::unexpected(*e);
      if (!is_sha256_hex(p->old_fingerprint_hash()) || !is_sha256_hex(p->new_fingerprint_hash())) {
        return std::unexpected(bad("fingerprint hashes must be lower-case hex SHA-256"));
      }
      return codec::CloneSuspectedInfo{agent, p->old_fingerprint_hash()->str(),
                                       p->new_fingerprint_hash()->str(), new_agent};
    }
    case schema::Payload::AgentRevoked: {
      const auto* p = env.payload_as_AgentRevoked();
      RequiredIds ids;
      const auto agent = ids.get<AgentId>(p->agent_id(), "agent_id");
      if (auto e = ids.error()) return std::unexpected(*e);
      codec::AgentRevokedInfo info{agent,
                                   {},
                                   text(p->revoked_by(), kMaxActorChars),
                                   text(p->reason(), kMaxAgentTextChars),
                                   text(p->impersonator(), kMaxActorChars)};
      if (p->public_keys() != nullptr) {
        if (p->public_keys()->size() > kMaxKeysPerRevocation) {
          return std::unexpected(bad("too many public keys"));
        }
        for (const auto* k : *p->public_keys()) {
          if (k == nullptr || !is_user_key(k->string_view())) {
            return std::unexpected(bad("public_keys holds a non-user key"));
          }
          info.public_keys.push_back(k->str());
        }
      }
      return info;
    }
    default: {
      auto change = decode_control_plane_change(env);
      auto* audit = change ? std::get_if<AuditOnly>(&*change) : nullptr;
      if (audit != nullptr && is_release_payload(env.payload_type())) {
        auto release = decode_release_change(env);
        if (!release) return std::unexpected(release.error());
        audit->release = std::move(*release);
      }
      return change;
    }
  }
}

}  // namespace

bool is_folded_control_token(std::string_view token) {
  return codec::control_payload_for_token(token).has_value();
}

Result<ControlEvent> to_control_event(const schema::Envelope& env, const EventSubject& subject) {
  if (env.source_kind() != schema::SourceKind::ControlPlane) {
    return std::unexpected(bad("source kind is not ControlPlane"));
  }
  auto expected = codec::control_payload_for_token(subject.type_token);
  if (!expected || *expected != env.payload_type()) {
    return std::unexpected(
        bad(fmt::format("payload does not match type token '{}'", subject.type_token)));
  }
  if (env.payload() == nullptr) return std::unexpected(bad("payload is missing"));
  auto change = decode_change(env);
  if (!change) return std::unexpected(change.error());
  return ControlEvent{env.occurred_at_ns(), std::move(*change),
                      text(env.source_name(), kMaxActorChars), env.payload_type()};
}

}  // namespace rmm::projector
