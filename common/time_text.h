// Points in time typed by people on command lines (rmm-replay --since/--until, rmm-projector
// rebuild --until, rmm-replay snapshot --until): one parser, so every tool takes the same forms.
#pragma once

#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace rmm {

// RFC 3339 ("2026-11-01T00:00:00Z", "2026-11-01T09:00:00+02:00", fractions allowed), a date
// ("2026-11-01", midnight UTC), Unix nanoseconds ("1764547200000000000"), "now", or an age
// ("36h", "30d", "15m": that long before `now`).
Result<UnixNanos> parse_time_text(std::string_view text, UnixNanos now);

// RFC 3339 in UTC with nanoseconds: "2026-11-01T09:00:00.000000000Z".
std::string format_time_utc(UnixNanos t);

}  // namespace rmm
