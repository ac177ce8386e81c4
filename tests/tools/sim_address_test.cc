// rmm-sim's source addresses: past --per-address connections the fleet spreads over 127.0.0.2,
// 127.0.0.3, ... (one source address has ~28,000 ephemeral ports towards one server port).
#include <doctest/doctest.h>

#include "tools/sim/fleet.h"

using rmm::sim::source_address;

TEST_CASE("a fleet that fits one source address lets the kernel pick it") {
  CHECK(source_address(0, 1000, 25'000).is_unspecified());
  CHECK(source_address(24'999, 25'000, 25'000).is_unspecified());
  CHECK(source_address(5, 10, 0).is_unspecified());
}

TEST_CASE("a larger fleet fills 127.0.0.1, then 127.0.0.2, 127.0.0.3, ...") {
  const int agents = 100'000, per = 25'000;
  CHECK(source_address(0, agents, per).to_string() == "127.0.0.1");
  CHECK(source_address(24'999, agents, per).to_string() == "127.0.0.1");
  CHECK(source_address(25'000, agents, per).to_string() == "127.0.0.2");
  CHECK(source_address(50'000, agents, per).to_string() == "127.0.0.3");
  CHECK(source_address(99'999, agents, per).to_string() == "127.0.0.4");
  // Small groups for a test of the spreading itself: 3 agents per address.
  CHECK(source_address(2, 7, 3).to_string() == "127.0.0.1");
  CHECK(source_address(3, 7, 3).to_string() == "127.0.0.2");
  CHECK(source_address(6, 7, 3).to_string() == "127.0.0.3");
}
