#include "common/log.h"

#include <fmt/chrono.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>

#include "common/platform/stderr_write.h"

namespace rmm::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::mutex g_mutex;
std::string g_component = "rmm";

constexpr std::string_view level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "?";
}

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7f;
}

// Values with spaces, quotes, '=' or control characters are quoted so every line stays
// machine-parseable; control characters (NUL, CR, ESC, BEL, ...) are written as escapes, never raw:
// values carry text from the network (a login name, a hostname), which must neither forge a log
// line nor reach a terminal's escape sequences.
void append_value(std::string& out, std::string_view v) {
  bool plain = !v.empty() && std::none_of(v.begin(), v.end(), [](char c) {
    return c == ' ' || c == '"' || c == '=' || c == '\\' ||
           is_control(static_cast<unsigned char>(c));
  });
  if (plain) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c == '\t') {
      out.append("\\t");
    } else if (is_control(u)) {
      out.append(fmt::format("\\x{:02x}", u));
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

}  // namespace

void set_component(std::string_view component) {
  std::lock_guard lock(g_mutex);
  g_component = component;
}

void set_level(Level level) {
  g_level = level;
}

Result<Level> parse_level(std::string_view text) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == level_name(l)) return l;
  }
  return fail(Error::Code::kInvalidInput, "log level must be debug, info, warn or error");
}

bool enabled(Level level) {
  return level >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  std::string line =
      fmt::format("ts={:%Y-%m-%dT%H:%M:%S}Z level={} component=", now, level_name(level));
  {
    std::lock_guard lock(g_mutex);
    line.append(g_component);
  }
  line.append(" msg=");
  append_value(line, msg);
  for (const auto& f : fields) {
    line.push_back(' ');
    line.append(f.key);
    line.push_back('=');
    append_value(line, f.value);
  }
  line.push_back('\n');
  platform::write_stderr(line);
}

}  // namespace rmm::log
