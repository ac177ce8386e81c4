#include "projector/folds/release_fold.h"

#include <fmt/format.h>

#include "common/event_codec.h"
#include "common/update_events.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

constexpr std::size_t kMaxShortChars = 200;
constexpr std::size_t kMaxManifestChars = 1 << 20;  // chunk hashes of a 512 MiB build fit

Error bad(std::string_view why) {
  return Error{Error::Code::kInvalidInput, fmt::format("release event: {}", why)};
}

std::string text(const flatbuffers::String* s, std::size_t max_chars = kMaxShortChars) {
  return s == nullptr ? std::string() : storable_text(s->string_view(), max_chars);
}

template <class T>
Result<T> id_of(const schema::Uuid* wire, std::string_view field) {
  UuidBytes bytes = codec::from_wire(wire);
  if (bytes == UuidBytes{}) return std::unexpected(bad(fmt::format("{} is missing", field)));
  return T(bytes);
}

std::vector<AgentId> agents_of(const flatbuffers::Vector<const schema::Uuid*>* ids) {
  std::vector<AgentId> out;
  if (ids == nullptr) return out;
  for (const auto* id : *ids) out.emplace_back(codec::from_wire(id));
  return out;
}

}  // namespace

bool is_release_payload(schema::Payload type) {
  return type == schema::Payload::ReleasePublished || type == schema::Payload::RolloutCreated ||
         type == schema::Payload::RolloutRingStarted || type == schema::Payload::RolloutHalted ||
         type == schema::Payload::RolloutCompleted;
}

Result<ReleaseChange> decode_release_change(const schema::Envelope& env) {
  switch (env.payload_type()) {
    case schema::Payload::ReleasePublished: {
      const auto* p = env.payload_as_ReleasePublished();
      if (p == nullptr) return std::unexpected(bad("payload missing"));
      codec::ReleasePublishedInfo v{text(p->version()),   text(p->platform()),
                                    text(p->arch()),      p->size(),
                                    text(p->sha256()),    text(p->manifest(), kMaxManifestChars),
                                    text(p->signature()), text(p->key_id()),
                                    text(p->actor())};
      if (v.version.empty() || v.platform.empty() || v.arch.empty()) {
        return std::unexpected(bad("version, platform and arch are required"));
      }
      if (v.size > static_cast<std::uint64_t>(INT64_MAX)) return std::unexpected(bad("size"));
      if (v.actor.empty()) v.actor = "unknown";
      return v;
    }
    case schema::Payload::RolloutCreated: {
      const auto* p = env.payload_as_RolloutCreated();
      if (p == nullptr) return std::unexpected(bad("payload missing"));
      auto id = id_of<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      codec::RolloutCreatedInfo v;
      v.rollout = *id;
      v.version = text(p->version());
      v.platform = text(p->platform());
      v.arch = text(p->arch());
      v.scope = {p->scope(), codec::from_wire(p->scope_id())};
      if (codec::scope_name(p->scope()).empty()) return std::unexpected(bad("unknown scope"));
      if (p->rings() != nullptr) {
        for (const auto* r : *p->rings()) {
          v.rings.push_back({text(r->name()), agents_of(r->agent_ids()), r->percent()});
        }
      }
      if (v.rings.empty()) return std::unexpected(bad("a rollout needs at least one ring"));
      v.advance_healthy_percent = std::min(p->advance_healthy_percent(), 100u);
      v.halt_failed_percent = std::min(p->halt_failed_percent(), 100u);
      v.by = {text(p->actor()), text(p->impersonator())};
      if (v.by.actor.empty()) return std::unexpected(bad("actor is missing"));
      return v;
    }
    case schema::Payload::RolloutRingStarted: {
      const auto* p = env.payload_as_RolloutRingStarted();
      if (p == nullptr) return std::unexpected(bad("payload missing"));
      auto id = id_of<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      return codec::RolloutRingStartedInfo{*id, p->ring_index(), agents_of(p->agent_ids()),
                                           agents_of(p->excluded_by_policy()),
                                           agents_of(p->no_release_for_platform())};
    }
    case schema::Payload::RolloutHalted: {
      const auto* p = env.payload_as_RolloutHalted();
      if (p == nullptr) return std::unexpected(bad("payload missing"));
      auto id = id_of<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      return codec::RolloutHaltedInfo{*id, text(p->reason()), text(p->actor()),
                                      text(p->impersonator())};
    }
    case schema::Payload::RolloutCompleted: {
      const auto* p = env.payload_as_RolloutCompleted();
      if (p == nullptr) return std::unexpected(bad("payload missing"));
      auto id = id_of<RolloutId>(p->rollout_id(), "rollout_id");
      if (!id) return std::unexpected(id.error());
      return codec::RolloutCompletedInfo{*id};
    }
    default:
      return std::unexpected(bad("not a release or rollout event"));
  }
}

Result<UpdateProgressRow> update_progress_row(const schema::UpdateProgress& p) {
  CommandId command(codec::from_wire(p.command_id()));
  if (command.is_nil()) return std::unexpected(bad("command_id is missing"));
  auto step = codec::update_step_name(p.step());
  if (step == "unknown") return std::unexpected(bad("unknown step"));
  return UpdateProgressRow{command,           text(p.from_version()), text(p.to_version()),
                           std::string(step), text(p.reason()),       text(p.detail(), 2000)};
}

}  // namespace rmm::projector
