// JsonWriter: the compiled JSON printer's output cursor (schema_json_fast.cc), with the string
// and number writers that go through it.
//
// Concurrency: one writer per output string. Limitations: callers reserve room with need()
// before writing; put and number never check.
#pragma once

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "tools/replay/flatbuffer_scalars.h"

namespace rmm::replay {

// Writes into a std::string through a raw cursor. While open, the string's size covers the whole
// writable window (bytes past the cursor are scratch); close() trims it to what was written.
// Callers reserve with need() before writing; put/number never check.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& s) : s_(s) { open(); }
  ~JsonWriter() { close(); }
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void need(std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) grow(n);
  }
  void put(char c) { *p_++ = c; }
  void put(std::string_view v) {
    std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }
  // At most 24 characters (to_chars of any integer or shortest double/float).
  template <class T>
  void number(T v) {
    p_ = std::to_chars(p_, p_ + 32, v).ptr;
  }
  // The first `n` bytes of `padded`, copied whole (one fixed-size copy; needs room for all).
  template <std::size_t N>
  void put_padded(const std::array<char, N>& padded, std::size_t n) {
    std::memcpy(p_, padded.data(), N);
    p_ += n;
  }
  char*& cursor() { return p_; }
  // The string with exactly what was written, for a printer that appends to strings; open()
  // again afterwards.
  std::string& string() {
    close();
    return s_;
  }
  void open() {
    std::size_t used = s_.size();
    resize_window(std::max(s_.capacity(), used + kMinRoom));
    p_ = s_.data() + used;
  }
  void close() {
    if (p_ == nullptr) return;
    s_.resize(static_cast<std::size_t>(p_ - s_.data()));
    p_ = end_ = nullptr;
  }

 private:
  static constexpr std::size_t kMinRoom = 4096;
  void grow(std::size_t n) {
    std::size_t used = static_cast<std::size_t>(p_ - s_.data());
    s_.resize(used);  // only the written bytes move to the new buffer
    resize_window(std::max(used + n + kMinRoom, 2 * s_.capacity()));
    p_ = s_.data() + used;
  }
  void resize_window(std::size_t n) {
    // The new bytes are scratch, written before they are kept: no need to zero them.
    s_.resize_and_overwrite(n, [](char*, std::size_t size) { return size; });
    end_ = s_.data() + s_.size();
  }

  std::string& s_;
  char* p_ = nullptr;
  char* end_ = nullptr;
};

// Appends `text` as a JSON string literal (quotes included), as append_json_string does.
inline void put_json_string(std::string_view text, JsonWriter& w) {
  w.need(text.size() * 6 + 2);
  char*& p = w.cursor();
  *p++ = '"';
  const auto* data = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t start = 0;
  for (std::size_t i = detail::json_clean_prefix(text.data(), text.size()); i < text.size(); ++i) {
    unsigned char c = data[i];
    if (detail::kJsonEscape[c] == 0) continue;
    std::memcpy(p, text.data() + start, i - start);
    p += i - start;
    start = i + 1;
    *p++ = '\\';
    switch (c) {
      case '"':
        *p++ = '"';
        break;
      case '\\':
        *p++ = '\\';
        break;
      case '\n':
        *p++ = 'n';
        break;
      case '\r':
        *p++ = 'r';
        break;
      case '\t':
        *p++ = 't';
        break;
      default:
        std::memcpy(p, "u00", 3);
        p += 3;
        *p++ = detail::kHex[c >> 4];
        *p++ = detail::kHex[c & 15];
    }
  }
  std::memcpy(p, text.data() + start, text.size() - start);
  p += text.size() - start;
  *p++ = '"';
}

// A float or double as std::to_chars writes it (detail::format_real); NaN and infinities as null.
template <class T>
void put_real(T value, JsonWriter& w) {
  if (std::isfinite(value)) {
    w.cursor() = detail::format_real(value, w.cursor());
  } else {
    w.put("null");
  }
}

}  // namespace rmm::replay
