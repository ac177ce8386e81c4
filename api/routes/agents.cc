#include "api/routes/agents.h"

#include <fmt/format.h>

#include <ctime>

namespace rmm::api {

std::string format_rfc3339_utc(std::int64_t unix_micros) {
  std::int64_t ms = unix_micros >= 0 ? unix_micros / 1000 : -((-unix_micros + 999) / 1000);
  std::int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  auto millis = static_cast<int>(ms - secs * 1000);
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

}  // namespace rmm::api
