#include "projector/folds/decode.h"

#include <cstddef>
#include <cstdint>

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
  // FlatBuffers reads scalars in place and the Verifier checks alignment only relative to the
  // buffer's start; a NATS payload follows its headers at any address. Copy such a payload to
  // the heap (16-byte aligned) so no read is misaligned.
  std::vector<std::uint8_t> aligned;
  if (reinterpret_cast<std::uintptr_t>(data.data()) % alignof(std::max_align_t) != 0) {
    aligned.assign(data.begin(), data.end());
    data = aligned;
  }
  auto parsed = parse_event_subject(subject);
  if (!parsed) return dead_letter(subject, parsed.error().message, data);
  if (parsed->kind == SubjectKind::kControlEvent && !is_folded_control_token(parsed->type_token)) {
    return Ignored{};
  }
  auto env = codec::verify_event(data);
  if (!env) return dead_letter(subject, env.error().message, data);
  if (parsed->kind == SubjectKind::kControlEvent) {
    auto control = to_control_event(**env, *parsed);
    if (!control) return dead_letter(subject, control.error().message, data);
    return std::move(*control);
  }
  auto event = to_agent_event(**env, *parsed);
  if (!event) return dead_letter(subject, event.error().message, data);
  return std::move(*event);
}

}  // namespace rmm::projector
