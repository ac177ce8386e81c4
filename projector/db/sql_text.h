// Text forms the writers send to PostgreSQL: array literals for `unnest($1::T[])` parameters,
// UTC timestamps for COPY, JSON for jsonb columns. Pure functions, no I/O.
//
// Timestamps cross as integer microseconds (exact, and immune to the session's TimeZone and
// DateStyle); COPY text gets an explicit +00 offset for the same reason.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace rmm::projector::db {

// Floor division, so instants before 1970 round down like timestamptz does.
std::int64_t ns_to_micros(UnixNanos ns);

// "YYYY-MM-DD HH:MM:SS.ffffff+00".
std::string utc_timestamp_text(std::int64_t micros);
// The UTC day of `micros`, as days since 1970-01-01 and as "YYYY-MM-DD".
std::int64_t utc_day(std::int64_t micros);
std::string day_text(std::int64_t day);

// Builds a one-dimensional array literal ("{a,"b c",NULL}") element by element.
class PgArray {
 public:
  PgArray() : text_("{") {}
  void add_null();
  void add_text(std::string_view s);
  void add(std::int64_t v);
  void add(double v);
  void add(bool v);
  void add_bytea(std::span<const std::uint8_t> bytes);
  template <class T>
  void add_optional(const std::optional<T>& v) {
    if (v) {
      add(static_cast<std::conditional_t<std::is_integral_v<T>, std::int64_t, T>>(*v));
    } else {
      add_null();
    }
  }
  void add_optional_text(const std::optional<std::string>& v) {
    if (v) {
      add_text(*v);
    } else {
      add_null();
    }
  }
  // The literal; the builder is empty afterwards.
  std::string take();

 private:
  void separator();
  std::string text_;
  bool empty_ = true;
};

// `s` as a JSON string, quotes included. `s` must be valid UTF-8 (storable text is).
void append_json_string(std::string& out, std::string_view s);

}  // namespace rmm::projector::db
