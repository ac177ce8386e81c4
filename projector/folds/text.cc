#include "projector/folds/text.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace rmm::projector {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Length of the valid UTF-8 sequence at the start of `s`, or 0 if it is not one (overlong forms,
// surrogates and code points past U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s) {
  auto b = [&](std::size_t i) { return static_cast<std::uint8_t>(s[i]); };
  auto cont = [&](std::size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  std::uint8_t c = b(0);
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

// Length of the leading run of `s` (looking at most at `limit` bytes) made of bytes 0x01-0x7F:
// each of them is one code point kept as it is, so that run needs no per-character work. Eight
// bytes are checked at a time: `(w - 0x01..01) | w` has a byte's top bit set exactly when that
// byte is 0 or >= 0x80 (a borrow only starts at a zero byte, which is itself caught first).
std::size_t plain_ascii_prefix(std::string_view s, std::size_t limit) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  const std::size_t end = std::min(s.size(), limit);
  const char* p = s.data();
  std::size_t i = 0;
  for (; i + 8 <= end; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, sizeof w);
    if (((w - kOnes) | w) & kHigh) break;
  }
  while (i < end) {
    auto c = static_cast<std::uint8_t>(p[i]);
    if (c == 0 || c >= 0x80) break;
    ++i;
  }
  return i;
}

}  // namespace

std::string storable_text(std::string_view in, std::size_t max_chars) {
  // Fast path: agent strings are nearly always short plain ASCII, returned as they are.
  std::size_t prefix = plain_ascii_prefix(in, max_chars);
  if (prefix == in.size() || prefix == max_chars) return std::string(in.substr(0, prefix));
  std::string out;
  out.reserve(std::min(in.size(), max_chars * 4));
  out.append(in.substr(0, prefix));
  std::size_t chars = prefix;
  std::size_t i = prefix;
  while (i < in.size() && chars < max_chars) {
    if (in[i] == '\0') {
      ++i;
      continue;
    }
    std::size_t n = utf8_sequence_length(in.substr(i));
    if (n == 0) {
      out.append(kReplacement);
      ++i;
    } else {
      out.append(in.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

}  // namespace rmm::projector
