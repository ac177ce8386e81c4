#include "agent/outbox/record.h"

#include <algorithm>

namespace rmm::agent::outbox {
namespace {

constexpr std::uint8_t kFormat = 1;
constexpr std::size_t kFixedHeader = 3 + 8;  // format, class, token length; occurred_at

void put_u64(std::string& out, std::uint64_t v) {
  auto b = encode_u64(v);
  out.append(b.data(), b.size());
}

}  // namespace

U64Bytes encode_u64(std::uint64_t v) {
  U64Bytes b;
  for (int i = 7; i >= 0; --i) {
    b[static_cast<std::size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return b;
}

std::optional<std::uint64_t> decode_u64(std::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<std::uint8_t>(c);
  return v;
}

std::string encode_record(EventClass cls, std::string_view subject_token, UnixNanos occurred_at,
                          std::span<const std::uint8_t> bytes) {
  std::string out;
  const auto token_len = std::min<std::size_t>(subject_token.size(), 255);
  out.reserve(kFixedHeader + token_len + bytes.size());
  out.push_back(static_cast<char>(kFormat));
  out.push_back(static_cast<char>(cls));
  out.push_back(static_cast<char>(token_len));
  out.append(subject_token.substr(0, token_len));
  put_u64(out, static_cast<std::uint64_t>(occurred_at));
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  return out;
}

Result<RecordView> decode_record(std::string_view value) {
  if (value.size() < kFixedHeader)
    return fail(Error::Code::kInvalidInput, "outbox record truncated");
  const auto format = static_cast<std::uint8_t>(value[0]);
  if (format != kFormat) {
    return failf("outbox record has unknown format {} (written by a newer agent?)", format);
  }
  const auto cls = static_cast<std::uint8_t>(value[1]);
  if (cls > static_cast<std::uint8_t>(EventClass::kDurable)) {
    return failf("outbox record has unknown event class {}", cls);
  }
  const std::size_t token_len = static_cast<std::uint8_t>(value[2]);
  if (value.size() < kFixedHeader + token_len) {
    return fail(Error::Code::kInvalidInput, "outbox record truncated");
  }
  RecordView r;
  r.cls = static_cast<EventClass>(cls);
  r.subject_token = value.substr(3, token_len);
  r.occurred_at = static_cast<UnixNanos>(*decode_u64(value.substr(3 + token_len, 8)));
  auto rest = value.substr(kFixedHeader + token_len);
  r.bytes = {reinterpret_cast<const std::uint8_t*>(rest.data()), rest.size()};
  return r;
}

std::string encode_u64s(std::span<const std::uint64_t> values) {
  std::string out;
  out.reserve(values.size() * 8);
  for (auto v : values) put_u64(out, v);
  return out;
}

void decode_u64s(std::string_view bytes, std::span<std::uint64_t> out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    const std::size_t at = i * 8;
    out[i] = at + 8 <= bytes.size() ? *decode_u64(bytes.substr(at, 8)) : 0;
  }
}

}  // namespace rmm::agent::outbox
