#include "common/ids.h"

#include <sodium.h>

namespace rmm {

std::string uuid_to_string(const UuidBytes& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

Result<UuidBytes> uuid_from_string(std::string_view text) {
  if (text.size() != 36) {
    return fail(Error::Code::kInvalidInput, fmt::format("not a UUID (length {})", text.size()));
  }
  UuidBytes out{};
  std::size_t byte = 0;
  for (std::size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return fail(Error::Code::kInvalidInput, "not a UUID (dash expected)");
      ++i;
      continue;
    }
    int hi = hex_value(text[i]);
    int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return fail(Error::Code::kInvalidInput, "not a UUID (bad hex digit)");
    out[byte++] = static_cast<std::uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return out;
}

UuidBytes uuid_v7(const Clock& clock) {
  [[maybe_unused]] static const int sodium_ready = sodium_init();  // idempotent, thread-safe
  UuidBytes b{};
  randombytes_buf(b.data(), b.size());
  auto ms = static_cast<std::uint64_t>(clock.now() / 1'000'000);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | (b[6] & 0x0f));  // version 7
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 9562 variant
  return b;
}

}  // namespace rmm
