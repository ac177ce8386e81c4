#include "projector/db/sql_text.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <chrono>

namespace rmm::projector::db {
namespace {

constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

std::chrono::year_month_day civil(std::int64_t day) {
  return std::chrono::year_month_day(std::chrono::sys_days(std::chrono::days(day)));
}

}  // namespace

std::int64_t ns_to_micros(UnixNanos ns) {
  return floor_div(ns, 1000);
}

std::int64_t utc_day(std::int64_t micros) {
  return floor_div(micros, kMicrosPerDay);
}

std::string day_text(std::int64_t day) {
  auto ymd = civil(day);
  return fmt::format("{:04d}-{:02d}-{:02d}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
}

std::string utc_timestamp_text(std::int64_t micros) {
  const std::int64_t day = utc_day(micros);
  std::int64_t rest = micros - day * kMicrosPerDay;
  const auto ymd = civil(day);
  const auto us = rest % 1'000'000;
  rest /= 1'000'000;
  return fmt::format(FMT_COMPILE("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:06d}+00"),
                     static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                     static_cast<unsigned>(ymd.day()), rest / 3600, rest / 60 % 60, rest % 60, us);
}

void PgArray::separator() {
  if (!empty_) text_ += ',';
  empty_ = false;
}

void PgArray::add_null() {
  separator();
  text_.append("NULL", 4);
}

void PgArray::add_text(std::string_view s) {
  separator();
  text_ += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') text_ += '\\';
    text_ += c;
  }
  text_ += '"';
}

void PgArray::add(std::int64_t v) {
  separator();
  fmt::format_to(std::back_inserter(text_), "{}", v);
}

void PgArray::add(double v) {
  separator();
  fmt::format_to(std::back_inserter(text_), "{}", v);
}

void PgArray::add(bool v) {
  separator();
  text_.push_back(v ? 't' : 'f');
}

void PgArray::add_bytea(std::span<const std::uint8_t> bytes) {
  // "\\x0a1b": the bytea hex form, its backslash escaped for the array literal.
  static constexpr char kHex[] = "0123456789abcdef";
  separator();
  text_.append("\"\\\\x", 4);
  for (auto b : bytes) {
    text_ += kHex[b >> 4];
    text_ += kHex[b & 0xF];
  }
  text_ += '"';
}

std::string PgArray::take() {
  text_.push_back('}');
  std::string out;
  out.swap(text_);
  text_.push_back('{');
  empty_ = true;
  return out;
}

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  // Runs of characters that need no escape are appended whole: most strings are one run.
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x20 && u != '"' && u != '\\') continue;
    out.append(s.data() + run, i - run);
    if (u < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", u);
    } else {
      out += '\\';
      out += s[i];
    }
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

namespace {

// 10^n for 0 <= n <= 38 (the largest power of ten in an __int128).
constexpr int kMaxDigits = 38;
using Int128 = ExactDecimalSum::Int128;
__extension__ typedef unsigned __int128 UInt128;

Int128 pow10(int n) {
  Int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

bool scale_up(Int128& v, int by) {
  if (by > kMaxDigits) return v == 0;
  return !__builtin_mul_overflow(v, pow10(by), &v);
}

}  // namespace

bool ExactDecimalSum::rescale(int scale) {
  if (scale <= scale_) return true;
  if (!scale_up(value_, scale - scale_)) return false;
  scale_ = scale;
  return true;
}

bool ExactDecimalSum::add(std::string_view t) {
  std::size_t i = 0;
  bool negative = false;
  if (i < t.size() && (t[i] == '-' || t[i] == '+')) negative = t[i++] == '-';
  Int128 mantissa = 0;
  int fraction = 0;
  bool point = false, any_digit = false;
  for (; i < t.size(); ++i) {
    const char c = t[i];
    if (c == '.' && !point) {
      point = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    any_digit = true;
    if (mantissa == 0 && c == '0' && !point) continue;  // leading zeros
    if (__builtin_mul_overflow(mantissa, 10, &mantissa) ||
        __builtin_add_overflow(mantissa, c - '0', &mantissa)) {
      return false;
    }
    if (point) ++fraction;
  }
  if (!any_digit) return false;
  int exponent = 0;
  if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    bool negative_exp = false;
    if (i < t.size() && (t[i] == '-' || t[i] == '+')) negative_exp = t[i++] == '-';
    if (i == t.size()) return false;
    for (; i < t.size(); ++i) {
      if (t[i] < '0' || t[i] > '9' || exponent > 10'000) return false;
      exponent = exponent * 10 + (t[i] - '0');
    }
    if (negative_exp) exponent = -exponent;
  }
  if (i != t.size()) return false;
  // value = mantissa * 10^-(fraction - exponent); numeric keeps a display scale of at least 0.
  const int term_scale = fraction - exponent;
  const int display = std::max(term_scale, 0);
  if (display > kMaxDigits || !rescale(display)) return false;
  Int128 term = mantissa;
  if (!scale_up(term, scale_ - term_scale)) return false;
  if (negative) term = -term;
  return !__builtin_add_overflow(value_, term, &value_);
}

std::string ExactDecimalSum::text() const {
  const bool negative = value_ < 0;
  UInt128 v = negative ? static_cast<UInt128>(-(value_ + 1)) + 1 : static_cast<UInt128>(value_);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  while (digits.size() <= static_cast<std::size_t>(scale_)) digits.push_back('0');
  std::string out = negative ? "-" : "";
  for (std::size_t k = digits.size(); k-- > 0;) {
    out.push_back(digits[k]);
    if (k == static_cast<std::size_t>(scale_) && scale_ > 0) out.push_back('.');
  }
  return out;
}

}  // namespace rmm::projector::db
