#include "common/time_text.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <utility>

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

// The number in text[at, at + width), when those are all digits.
std::optional<int> digits_at(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size() || !all_digits(text.substr(at, width))) return std::nullopt;
  int v = 0;
  std::from_chars(text.data() + at, text.data() + at + width, v);
  return v;
}

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS" at the start of `text` (a calendar check included):
// seconds since the epoch, and what follows. Written out rather than strptime, which Windows
// lacks.
std::optional<std::pair<std::int64_t, std::string_view>> parse_date_time(std::string_view text) {
  auto y = digits_at(text, 0, 4);
  auto mo = digits_at(text, 5, 2);
  auto d = digits_at(text, 8, 2);
  if (!y || !mo || !d || text[4] != '-' || text[7] != '-') return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year(*y),
                                         std::chrono::month(static_cast<unsigned>(*mo)),
                                         std::chrono::day(static_cast<unsigned>(*d))};
  if (!date.ok()) return std::nullopt;
  std::int64_t secs = std::chrono::sys_days(date).time_since_epoch().count() * 86'400;
  if (text.size() == 10) return std::pair{secs, text.substr(10)};
  auto h = digits_at(text, 11, 2);
  auto mi = digits_at(text, 14, 2);
  auto s = digits_at(text, 17, 2);
  if (!h || !mi || !s || (text[10] != 'T' && text[10] != 't') || text[13] != ':' ||
      text[16] != ':' || *h > 23 || *mi > 59 || *s > 60) {
    return std::nullopt;
  }
  return std::pair{secs + *h * 3600 + *mi * 60 + *s, text.substr(19)};
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
  auto parsed = parse_date_time(text);
  if (!parsed) return failf("time '{}': expected RFC 3339, a date, Unix ns or an age", text);
  auto [secs, tail] = *parsed;
  std::int64_t nanos = 0;
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
  std::int64_t secs = t / 1'000'000'000;
  std::int64_t nanos = t % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  // Calendar arithmetic instead of gmtime_r, which Windows spells differently.
  const auto day =
      std::chrono::floor<std::chrono::days>(std::chrono::sys_seconds(std::chrono::seconds(secs)));
  const std::chrono::year_month_day date(day);
  const std::chrono::hh_mm_ss time(std::chrono::sys_seconds(std::chrono::seconds(secs)) - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     time.hours().count(), time.minutes().count(), time.seconds().count(), nanos);
}

}  // namespace rmm
