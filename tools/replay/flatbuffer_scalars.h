// What the schema-driven JSON printers share (the reference walker in schema_json.cc and the
// compiled one in schema_json_fast.cc): FlatBuffers scalars read by their reflection base type,
// and the bytes a JSON string must escape.
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/reflection.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace rmm::replay::detail {

inline constexpr char kHex[] = "0123456789abcdef";

// 1 for the bytes a JSON string literal must escape: control characters, '"' and '\\'.
inline constexpr auto kJsonEscape = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[static_cast<std::size_t>(c)] = 1;
  t['"'] = 1;
  t['\\'] = 1;
  return t;
}();

inline bool is_scalar(reflection::BaseType t) {
  return t >= reflection::BaseType::UType && t <= reflection::BaseType::Double;
}

inline std::size_t scalar_size(reflection::BaseType t) {
  using reflection::BaseType;
  switch (t) {
    case BaseType::UType:
    case BaseType::Bool:
    case BaseType::Byte:
    case BaseType::UByte:
      return 1;
    case BaseType::Short:
    case BaseType::UShort:
      return 2;
    case BaseType::Int:
    case BaseType::UInt:
    case BaseType::Float:
      return 4;
    default:
      return 8;
  }
}

// An integer scalar widened to 64 bits (ULong reinterpreted; floats read as 0).
inline std::int64_t read_int(reflection::BaseType t, const std::uint8_t* p) {
  using flatbuffers::ReadScalar;
  using reflection::BaseType;
  switch (t) {
    case BaseType::Bool:
    case BaseType::UType:
    case BaseType::UByte:
      return ReadScalar<std::uint8_t>(p);
    case BaseType::Byte:
      return ReadScalar<std::int8_t>(p);
    case BaseType::Short:
      return ReadScalar<std::int16_t>(p);
    case BaseType::UShort:
      return ReadScalar<std::uint16_t>(p);
    case BaseType::Int:
      return ReadScalar<std::int32_t>(p);
    case BaseType::UInt:
      return ReadScalar<std::uint32_t>(p);
    case BaseType::Long:
      return ReadScalar<std::int64_t>(p);
    case BaseType::ULong:
      return static_cast<std::int64_t>(ReadScalar<std::uint64_t>(p));
    default:
      return 0;
  }
}

// How many leading bytes of `text` certainly need no JSON escape, found 8 bytes at a time (a
// word with a byte under 0x20, a '"' or a '\\' stops the scan; the caller checks the rest byte
// by byte). Bit tricks: a byte below n, or a zero byte, borrows into its top bit.
inline std::size_t json_clean_prefix(const char* text, std::size_t size) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, text + i, 8);
    std::uint64_t quote = w ^ (kOnes * '"');
    std::uint64_t backslash = w ^ (kOnes * '\\');
    std::uint64_t special =
        ((w - kOnes * 0x20) & ~w) | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
    if ((special & kHigh) != 0) break;
  }
  return i;
}

// Writes a finite float or double exactly as std::to_chars(p, p + 32, value) would (the
// shortest text that reads back to the same value; fixed notation unless scientific is
// shorter), returning the end. Most metrics are whole numbers or have one or two decimals (45,
// 0.5, 38.5): those skip the general algorithm. Whole numbers under 100,000 in magnitude: their
// digits (fixed is never longer than scientific there; -0 keeps its sign through to_chars).
// Magnitudes under 10,000 with one or two decimals: value * 10^d rounds to an integer k whose
// k / 10^d reads back as the value (no number with fewer digits does, or a smaller d would
// have), and fixed is shorter than scientific from 0.01 up. k / 10^d is computed in double and
// then rounded to float: a decimal with one or two places lies far from any float midpoint, so
// the double rounding never changes the result.
template <class T>
char* format_real(T value, char* p) {
  if (value > T(-100000) && value < T(100000)) {
    auto whole = static_cast<std::int32_t>(value);
    if (static_cast<T>(whole) == value) {
      if (whole != 0 || !std::signbit(value)) return std::to_chars(p, p + 12, whole).ptr;
    } else if (value > T(-10000) && value < T(10000)) {
      for (int places = 1; places <= 2; ++places) {
        const double scale = places == 1 ? 10.0 : 100.0;
        const double k = std::nearbyint(static_cast<double>(value) * scale);
        if (static_cast<T>(k / scale) != value) continue;
        auto digits = static_cast<std::int64_t>(k);
        if (digits < 0) {
          *p++ = '-';
          digits = -digits;
        }
        const auto unit = static_cast<std::int64_t>(scale);
        p = std::to_chars(p, p + 12, digits / unit).ptr;
        *p++ = '.';
        std::int64_t fraction = digits % unit;
        if (places == 2) *p++ = static_cast<char>('0' + fraction / 10);
        *p++ = static_cast<char>('0' + fraction % 10);
        return p;
      }
    }
  }
  return std::to_chars(p, p + 32, value).ptr;
}

}  // namespace rmm::replay::detail
