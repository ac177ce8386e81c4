// The projector warns in its log before a discard-new stream fills up (projector/stream_watch.h).
#include "projector/stream_watch.h"

#include <doctest/doctest.h>

#include "common/nats_connection.h"
#include "common/nats_jetstream.h"
#include "tests/fixtures/nats_server.h"

using namespace rmm;
using namespace std::chrono_literals;

TEST_CASE("stream watch: nothing to say about roomy streams, a warning past 80 % of a limit") {
  test::NatsServerFixture server(
      {.limits = {.storage_budget = 1LL << 30, .max_bytes = {{"RMM_COMMANDS", 32 * 1024}}}});
  auto conn = nats::Connection::connect(
      {.url = server.url(), .creds_file = server.services_creds().string()});
  REQUIRE(conn.has_value());
  auto js = nats::JetStream::create(**conn, {});
  REQUIRE(js.has_value());
  projector::StreamWatch watch((*js)->raw(),
                               {"RMM_EVENTS", "RMM_CONTROL", "RMM_COMMANDS", "RMM_RELEASES"});
  CHECK(watch.check() == 0);

  const std::vector<std::uint8_t> payload(1000, 1);
  for (int i = 0; i < 28; ++i) {
    REQUIRE((*js)->publish("rmm.cmd.watch-test", payload, "", 5s).has_value());
  }
  CHECK(watch.check() == 1);  // RMM_COMMANDS, about 90 % full
  projector::StreamWatch missing((*js)->raw(), {"RMM_NOPE"});
  CHECK(missing.check() == 1);  // an unknown stream is said, not skipped
}
