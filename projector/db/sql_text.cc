#include "projector/db/sql_text.h"

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
  return fmt::format("{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}.{:06d}+00",
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
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace rmm::projector::db
