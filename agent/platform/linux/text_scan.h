// Small helpers the Linux parsers share for scanning /proc and /sys text. Header-only.
#pragma once

#include <charconv>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rmm::agent::linux_proc::scan {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Calls f(line) for every line of text, without the newline.
template <class F>
void for_each_line(std::string_view text, F f) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    f(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// The next whitespace-separated token of `s` (consumed from it); empty at the end.
inline std::string_view next_token(std::string_view& s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  std::size_t n = 0;
  while (n < s.size() && !is_space(s[n])) ++n;
  auto tok = s.substr(0, n);
  s.remove_prefix(n);
  return tok;
}

template <class T = std::uint64_t>
std::optional<T> to_number(std::string_view s) {
  T v{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

}  // namespace rmm::agent::linux_proc::scan
