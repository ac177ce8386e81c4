// Structured logging: one line per event, `key=value` fields, to stderr.
//
//   log::info("batch.applied", {{"events", n}, {"stream_seq", seq}});
//   -> ts=2026-11-27T00:41:03.123Z level=info component=projector msg=batch.applied events=512 ...
//
// Concurrency: safe from any thread; each line is written with one call.
// Limitations: no rotation; the process supervisor owns where stderr goes.
#pragma once

#include <fmt/format.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rmm::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

struct Field {
  template <class T>
  Field(std::string_view k, const T& v) : key(k), value(fmt::format("{}", v)) {}
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  std::string_view key;
  std::string value;
};

void set_component(std::string_view component);
void set_level(Level level);
Result<Level> parse_level(std::string_view text);
bool enabled(Level level);
void write(Level level, std::string_view msg, std::initializer_list<Field> fields);

inline void debug(std::string_view msg, std::initializer_list<Field> f = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, msg, f);
}
inline void info(std::string_view msg, std::initializer_list<Field> f = {}) {
  write(Level::kInfo, msg, f);
}
inline void warn(std::string_view msg, std::initializer_list<Field> f = {}) {
  write(Level::kWarn, msg, f);
}
inline void error(std::string_view msg, std::initializer_list<Field> f = {}) {
  write(Level::kError, msg, f);
}

}  // namespace rmm::log
