#include "common/time_text.h"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

#include "common/config.h"

namespace rmm {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace

Result<UnixNanos> parse_time_text(std::string_view text, UnixNanos now) {
  if (text == "now") return now;
  if (all_digits(text) && text.size() > 10) {
    UnixNanos v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return failf("time '{}': out of range", text);
    }
    return v;
  }
  if (!text.empty() && text.front() != '-' && (text.back() < '0' || text.back() > '9') &&
      text.find('-') == std::string_view::npos) {
    auto age = config::parse_duration(text);
    if (!age) return failf("time '{}': {}", text, age.error().message);
    return now - std::chrono::duration_cast<std::chrono::nanoseconds>(*age).count();
  }
  // RFC 3339 or a bare date.
  std::tm tm{};
  std::string s(text);
  const char* rest = nullptr;
  if (s.size() == 10) {
    rest = strptime(s.c_str(), "%Y-%m-%d", &tm);
  } else {
    rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  }
  if (rest == nullptr)
    return failf("time '{}': expected RFC 3339, a date, Unix ns or an age", text);
  std::int64_t secs = timegm(&tm);
  std::int64_t nanos = 0;
  std::string_view tail(rest);
  if (!tail.empty() && tail.front() == '.') {
    tail.remove_prefix(1);
    std::int64_t scale = 100'000'000;
    while (!tail.empty() && tail.front() >= '0' && tail.front() <= '9') {
      nanos += (tail.front() - '0') * scale;
      scale /= 10;
      tail.remove_prefix(1);
    }
  }
  if (tail == "Z" || tail.empty()) {
  } else if ((tail.front() == '+' || tail.front() == '-') && tail.size() == 6 && tail[3] == ':') {
    int hh = (tail[1] - '0') * 10 + (tail[2] - '0');
    int mm = (tail[4] - '0') * 10 + (tail[5] - '0');
    std::int64_t offset = (hh * 60 + mm) * 60;
    secs += tail.front() == '+' ? -offset : offset;
  } else {
    return failf("time '{}': bad zone suffix '{}'", text, tail);
  }
  return secs * 1'000'000'000 + nanos;
}

std::string format_time_utc(UnixNanos t) {
  std::time_t secs = static_cast<std::time_t>(t / 1'000'000'000);
  std::int64_t nanos = t % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nanos);
}

}  // namespace rmm
