// What the schema-driven JSON printers share (the reference walker in schema_json.cc and the
// compiled one in schema_json_fast.cc): FlatBuffers scalars read by their reflection base type,
// and the bytes a JSON string must escape.
#pragma once

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/reflection.h>

#include <array>
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

}  // namespace rmm::replay::detail
