#include "projector/folds/decode.h"

#include <sodium.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "common/event_codec.h"
#include "projector/folds/text.h"

namespace rmm::projector {
namespace {

constexpr std::size_t kMaxSubjectChars = 512;

constexpr std::size_t kMaxSourceChars = 64;

// "rmm.p.<k>.evt.<agent>.<type>": the agent token; "rmm.ctl.>": control; else other.
std::string source_of(std::string_view subject) {
  if (subject.starts_with("rmm.ctl.")) return "control";
  if (!subject.starts_with("rmm.p.")) return "other";
  std::string_view rest = subject.substr(6);
  for (int skip = 0; skip < 2; ++skip) {  // <k>, evt
    auto dot = rest.find('.');
    if (dot == std::string_view::npos) return "other";
    rest.remove_prefix(dot + 1);
  }
  auto token = rest.substr(0, rest.find('.'));
  return token.empty() ? "other" : storable_text(token, kMaxSourceChars);
}

DeadLetter dead_letter(std::string_view subject, std::string reason,
                       std::span<const std::uint8_t> data, std::optional<UnixNanos> stored_at) {
  DeadLetter dl{.subject = storable_text(subject, kMaxSubjectChars),
                .reason = std::move(reason),
                .raw = std::vector<std::uint8_t>(
                    data.begin(), data.begin() + std::min(data.size(), kDeadLetterRawBytes)),
                .raw_size = static_cast<std::int64_t>(data.size()),
                .source = source_of(subject),
                .stored_at = stored_at.value_or(0)};
  crypto_hash_sha256(dl.raw_sha256.data(), data.data(), data.size());
  return dl;
}

// nullopt: the message was never stored (the overload without a time).
Decoded decode(std::string_view subject, std::span<const std::uint8_t> data,
               std::optional<UnixNanos> stored_at) {
  // FlatBuffers reads scalars in place and the Verifier checks alignment only relative to the
  // buffer's start; a NATS payload follows its headers at any address. Copy such a payload to
  // the heap (16-byte aligned) so no read is misaligned.
  std::vector<std::uint8_t> aligned;
  if (reinterpret_cast<std::uintptr_t>(data.data()) % alignof(std::max_align_t) != 0) {
    aligned.assign(data.begin(), data.end());
    data = aligned;
  }
  auto parsed = parse_event_subject(subject);
  if (!parsed) return dead_letter(subject, parsed.error().message, data, stored_at);
  if (parsed->kind == SubjectKind::kControlEvent && !is_folded_control_token(parsed->type_token)) {
    return Ignored{};
  }
  auto env = codec::verify_event(data);
  if (!env) return dead_letter(subject, env.error().message, data, stored_at);
  if (parsed->kind == SubjectKind::kControlEvent) {
    auto control = to_control_event(**env, *parsed);
    if (!control) return dead_letter(subject, control.error().message, data, stored_at);
    return std::move(*control);
  }
  auto event = to_agent_event(**env, *parsed, stored_at.value_or((*env)->occurred_at_ns()));
  if (!event) return dead_letter(subject, event.error().message, data, stored_at);
  return std::move(*event);
}

}  // namespace

Decoded decode_message(std::string_view subject, std::span<const std::uint8_t> data,
                       UnixNanos stored_at) {
  return decode(subject, data, stored_at);
}

Decoded decode_message(std::string_view subject, std::span<const std::uint8_t> data) {
  return decode(subject, data, std::nullopt);
}

}  // namespace rmm::projector
