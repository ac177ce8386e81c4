#include "common/log.h"

#include <fmt/chrono.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>

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

// Values with spaces, quotes or '=' are quoted so every line stays machine-parseable.
void append_value(std::string& out, std::string_view v) {
  bool plain = !v.empty() && v.find_first_of(" \"=\n\t\\") == std::string_view::npos;
  if (plain) {
    out.append(v);
    return;
  }
  out.push_back('"');
  for (char c : v) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out.append("\\n");
      continue;
    }
    out.push_back(c);
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
  // One write(2) per line: lines from different threads never interleave.
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace rmm::log
