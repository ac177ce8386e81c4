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

// An exact sum of decimal numbers given as text ("45.5", "3.0517578125e-05", "-0", "1.5e+20"), as
// PostgreSQL's `sum()` of the same texts cast to numeric would give it: the same value and the
// same display scale (the largest scale among the terms), so a sum made here and added to a
// stored numeric equals the one SQL would have made. Fixed point in 128 bits: add() fails (and
// the sum is unusable) when a term or the sum does not fit, the caller then lets SQL do it.
class ExactDecimalSum {
 public:
  __extension__ typedef __int128 Int128;

  // False when `text` is not a finite decimal or does not fit.
  [[nodiscard]] bool add(std::string_view text);
  // "[-]digits[.digits]" with exactly scale() fractional digits; "0" for an empty sum.
  std::string text() const;
  int scale() const { return scale_; }

 private:
  bool rescale(int scale);
  Int128 value_ = 0;  // the sum times 10^scale_
  int scale_ = 0;
};

// `s` as a JSON string, quotes included. `s` must be valid UTF-8 (storable text is).
void append_json_string(std::string& out, std::string_view s);

}  // namespace rmm::projector::db
