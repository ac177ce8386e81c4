// Time formatting shared by the routes (the agents list itself is in read_agents.cc).
#pragma once

#include <cstdint>
#include <string>

namespace rmm::api {

// Unix microseconds -> RFC 3339 UTC with milliseconds: "2026-01-02T03:04:05.678Z".
std::string format_rfc3339_utc(std::int64_t unix_micros);

}  // namespace rmm::api
