// Every build must still decode every golden event of every schema version.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/compat/golden_events.h"

using namespace rmm;

namespace {
std::vector<std::uint8_t> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
const std::filesystem::path kDir = std::filesystem::path(RMM_SOURCE_DIR) / "tests/compat/v1";
}  // namespace

TEST_CASE("v1 golden events decode with every field intact") {
  auto started = read_file(kDir / "agent_started.rmev");
  auto env = codec::verify_event(started);
  REQUIRE(env.has_value());
  CHECK((*env)->seq() == 1);
  CHECK(codec::from_wire((*env)->source_id()) == golden::header(1).agent.bytes());
  CHECK((*env)->occurred_at_ns() == golden::header(1).occurred_at);
  REQUIRE((*env)->payload_as_AgentStarted() != nullptr);
  const auto* s = (*env)->payload_as_AgentStarted();
  CHECK(s->hostname()->str() == "golden-host");
  CHECK(s->cpu_count() == 8);
  CHECK(s->memory_total_bytes() == (16ULL << 30));

  auto hb = read_file(kDir / "heartbeat.rmev");
  env = codec::verify_event(hb);
  REQUIRE(env.has_value());
  REQUIRE((*env)->payload_as_Heartbeat() != nullptr);
  CHECK((*env)->payload_as_Heartbeat()->uptime_s() == 3600);
  CHECK((*env)->payload_as_Heartbeat()->outbox_depth() == 7);

  auto ms = read_file(kDir / "metrics_sample.rmev");
  env = codec::verify_event(ms);
  REQUIRE(env.has_value());
  REQUIRE((*env)->payload_as_MetricsSample() != nullptr);
  CHECK((*env)->payload_as_MetricsSample()->cpu_percent() == doctest::Approx(12.5));
}

TEST_CASE("the current builder still writes v1 golden bytes") {
  // Catches an accidental change to field order or defaults in the schema.
  for (const auto& [name, bytes] : golden::v1_events()) {
    CAPTURE(name);
    CHECK(read_file(kDir / name) == bytes);
  }
}
