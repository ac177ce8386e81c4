#include "projector/folds/decode.h"

#include "common/event_codec.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

constexpr std::size_t kMaxSubjectChars = 512;

DeadLetter dead_letter(std::string_view subject, std::string reason,
                       std::span<const std::uint8_t> data) {
  return DeadLetter{.subject = storable_text(subject, kMaxSubjectChars),
                    .reason = std::move(reason),
                    .raw = std::vector<std::uint8_t>(data.begin(), data.end())};
}

}  // namespace

Decoded decode_message(std::string_view subject, std::span<const std::uint8_t> data) {
  auto parsed = parse_event_subject(subject);
  if (!parsed) return dead_letter(subject, parsed.error().message, data);
  if (parsed->kind == SubjectKind::kControlEvent) return Ignored{};
  auto env = codec::verify_event(data);
  if (!env) return dead_letter(subject, env.error().message, data);
  auto event = to_agent_event(**env, *parsed);
  if (!event) return dead_letter(subject, event.error().message, data);
  return std::move(*event);
}

}  // namespace rmm::projector
