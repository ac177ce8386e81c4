// Point-in-time snapshots without servers: schema names, and the time forms shared by
// rmm-replay and rmm-projector rebuild --until.
#include <doctest/doctest.h>

#include "common/time_text.h"
#include "projector/rebuild/snapshot.h"

using rmm::format_time_utc;
using rmm::parse_time_text;
using rmm::projector::rebuild::check_snapshot_schema_name;

TEST_CASE("a snapshot schema is a plain identifier that cannot collide with the live schemas") {
  CHECK(check_snapshot_schema_name("fleet_tuesday_0900").has_value());
  CHECK(check_snapshot_schema_name("s1").has_value());
  for (const char* bad : {"", "public", "auth", "pg_temp", "information_schema", "1abc", "_x",
                          "Fleet", "fleet-tuesday", "a;drop", "rmm_rebuild_1", "rmm_verify_2",
                          "rmm_retired_3", "rmm_snapshot_4", "fleet tuesday"}) {
    CAPTURE(bad);
    auto st = check_snapshot_schema_name(bad);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code == rmm::Error::Code::kInvalidInput);
  }
  CHECK_FALSE(check_snapshot_schema_name(std::string(64, 'a')).has_value());
  CHECK(check_snapshot_schema_name(std::string(63, 'a')).has_value());
}

TEST_CASE("times: RFC 3339, dates, Unix ns, now and ages") {
  const rmm::UnixNanos now = 1'764'547'200'000'000'000;  // 2025-12-01T00:00:00Z
  CHECK(parse_time_text("now", now).value() == now);
  CHECK(parse_time_text("2025-12-01", now).value() == now);
  CHECK(parse_time_text("2025-12-01T00:00:00Z", now).value() == now);
  CHECK(parse_time_text("2025-12-01T02:00:00+02:00", now).value() == now);
  CHECK(parse_time_text("2025-11-30T21:30:00-02:30", now).value() == now);
  CHECK(parse_time_text("2025-12-01T00:00:00.25Z", now).value() == now + 250'000'000);
  CHECK(parse_time_text("1764547200000000000", now).value() == now);
  CHECK(parse_time_text("36h", now).value() == now - 36LL * 3600 * 1'000'000'000);
  CHECK(parse_time_text("7d", now).value() == now - 7LL * 86'400 * 1'000'000'000);
  CHECK_FALSE(parse_time_text("last tuesday", now).has_value());
  CHECK_FALSE(parse_time_text("2025-12-01T00:00:00+0200", now).has_value());
  CHECK_FALSE(parse_time_text("2025-02-30", now).has_value());
  CHECK_FALSE(parse_time_text("2025-13-01T00:00:00Z", now).has_value());
  CHECK_FALSE(parse_time_text("2025-12-01T24:00:00Z", now).has_value());
  CHECK_FALSE(parse_time_text("2025-12-01 00:00:00Z", now).has_value());
  CHECK_FALSE(parse_time_text("99999999999999999999999", now).has_value());
}

TEST_CASE("format_time_utc writes what parse_time_text reads back") {
  const rmm::UnixNanos t = 1'764'579'600'123'456'789;  // 2025-12-01T09:00:00.123456789Z
  CHECK(format_time_utc(t) == "2025-12-01T09:00:00.123456789Z");
  CHECK(parse_time_text(format_time_utc(t), 0).value() == t);
  CHECK(format_time_utc(0) == "1970-01-01T00:00:00.000000000Z");
}
