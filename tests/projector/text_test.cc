// storable_text's plain-ASCII fast path against a byte-at-a-time reference of the same rules.
#include "projector/folds/text.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

using namespace rmm::projector;

namespace {

// Validity by definition: decode the code point, then reject overlong forms, surrogates and
// values past U+10FFFF. Independent of text.cc's byte-range checks, so it tests those rules too.
std::size_t reference_sequence_length(std::string_view s) {
  const auto lead = static_cast<std::uint8_t>(s[0]);
  if (lead < 0x80) return 1;
  std::size_t n = 0;
  std::uint32_t cp = 0, lowest = 0;
  if ((lead & 0xE0) == 0xC0) {
    n = 2, cp = lead & 0x1Fu, lowest = 0x80;
  } else if ((lead & 0xF0) == 0xE0) {
    n = 3, cp = lead & 0x0Fu, lowest = 0x800;
  } else if ((lead & 0xF8) == 0xF0) {
    n = 4, cp = lead & 0x07u, lowest = 0x10000;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (std::size_t i = 1; i < n; ++i) {
    const auto b = static_cast<std::uint8_t>(s[i]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  if (cp < lowest || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

std::string reference_storable(std::string_view in, std::size_t max_chars) {
  std::string out;
  std::size_t chars = 0;
  std::size_t i = 0;
  while (i < in.size() && chars < max_chars) {
    if (in[i] == '\0') {
      ++i;
      continue;
    }
    std::size_t n = reference_sequence_length(in.substr(i));
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(in.substr(i, n));
      i += n;
    }
    ++chars;
  }
  return out;
}

// Multi-byte, invalid, NUL and truncated sequences put into otherwise ASCII strings.
constexpr std::string_view kOddSequences[] = {
    "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xFF", std::string_view("\0", 1), "\xC3"};

constexpr std::size_t kBounds[] = {0, 1, 7, 8, 9, 16, 17, 40, kMaxAgentTextChars};

}  // namespace

TEST_CASE("storable_text: every byte value at every position matches the reference") {
  const std::string base = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ";  // 46 bytes
  std::size_t mismatches = 0;
  for (std::size_t pos = 0; pos < base.size(); ++pos) {
    for (int v = 0; v < 256; ++v) {
      std::string s = base;
      s[pos] = static_cast<char>(v);
      for (std::size_t bound : kBounds) {
        if (storable_text(s, bound) != reference_storable(s, bound)) ++mismatches;
      }
      // The same byte as the last one of a shorter string (tails that end inside a word).
      std::string_view prefix(s.data(), pos + 1);
      if (storable_text(prefix) != reference_storable(prefix, kMaxAgentTextChars)) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("storable_text: long strings and cuts match the reference") {
  for (std::size_t len : {254u, 255u, 256u, 263u, 1000u, 5000u}) {
    std::string ascii(len, 'h');
    CHECK(storable_text(ascii) == reference_storable(ascii, kMaxAgentTextChars));
    CHECK(storable_text(ascii).size() == std::min<std::size_t>(len, kMaxAgentTextChars));
    for (std::size_t pos : {0u, 7u, 8u, 200u, 253u, 254u, 255u, 256u, 300u}) {
      if (pos >= len) continue;
      for (std::string_view odd : kOddSequences) {
        std::string s = ascii;
        s.replace(pos, 1, odd);
        CHECK(storable_text(s) == reference_storable(s, kMaxAgentTextChars));
      }
    }
  }
}

TEST_CASE("storable_text: random strings match the reference") {
  std::mt19937_64 rng(20261127);
  std::size_t mismatches = 0;
  for (int round = 0; round < 20000; ++round) {
    std::size_t len = rng() % 300;
    int flavour = static_cast<int>(rng() % 3);
    std::string s(len, 'a');
    for (auto& c : s) {
      auto r = rng();
      // Mostly ASCII with a few bytes of any value, or any byte at all.
      c = flavour == 0   ? static_cast<char>(0x20 + r % 95)
          : flavour == 1 ? static_cast<char>(r % 64 == 0 ? r >> 8 : 0x20 + r % 95)
                         : static_cast<char>(r);
    }
    std::size_t bound = rng() % 2 == 0 ? kMaxAgentTextChars : rng() % 300;
    if (storable_text(s, bound) != reference_storable(s, bound)) ++mismatches;
  }
  CHECK(mismatches == 0);
}
