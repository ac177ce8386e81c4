#include "common/ids.h"

#include <doctest/doctest.h>

using namespace rmm;

TEST_CASE("UUIDv7 carries the clock's milliseconds, version and variant") {
  FakeClock clock(1'700'000'000'123'000'000);
  auto id = AgentId::generate(clock);
  const auto& b = id.bytes();
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | b[i];
  CHECK(ms == 1'700'000'000'123ULL);
  CHECK((b[6] >> 4) == 7);
  CHECK((b[8] >> 6) == 2);
  CHECK(AgentId::generate(clock) != id);
}

TEST_CASE("UUID text round trip and rejection of malformed text") {
  auto id = EventId::generate(real_clock());
  auto parsed = EventId::parse(id.str());
  REQUIRE(parsed.has_value());
  CHECK(*parsed == id);
  CHECK(id.str().size() == 36);
  CHECK_FALSE(EventId::parse("not-a-uuid").has_value());
  CHECK_FALSE(EventId::parse("0190a5c2-0000-7000-8000-00000000000g").has_value());
  CHECK_FALSE(EventId::parse("0190a5c2x0000-7000-8000-000000000000").has_value());
}
