#include "common/event_codec.h"

#include <doctest/doctest.h>

#include <random>

#include "tests/compat/golden_events.h"

using namespace rmm;

TEST_CASE("codec round trip keeps every header and payload field") {
  auto h = golden::header(7);
  auto bytes = codec::build_agent_started(h, golden::started_info());
  auto env = codec::verify_event(bytes);
  REQUIRE(env.has_value());
  CHECK(codec::from_wire((*env)->event_id()) == h.event_id.bytes());
  CHECK(codec::from_wire((*env)->source_id()) == h.agent.bytes());
  CHECK((*env)->source_kind() == schema::SourceKind::Agent);
  CHECK((*env)->seq() == 7);
  CHECK((*env)->occurred_at_ns() == h.occurred_at);
  CHECK((*env)->schema_version() == codec::kEventSchemaVersion);
  const auto* s = (*env)->payload_as_AgentStarted();
  REQUIRE(s != nullptr);
  CHECK(s->hostname()->str() == "golden-host");
  CHECK(s->os_name()->str() == "Debian GNU/Linux");
  CHECK(s->kernel()->str() == "6.1.0-golden");
  CHECK(s->cpu_model()->str() == "Golden CPU @ 3.0GHz");
}

TEST_CASE("subjects and tokens") {
  auto agent = golden::header(1).agent;
  CHECK(codec::agent_event_subject(agent, schema::Payload::Heartbeat) ==
        "rmm.evt." + agent.str() + ".heartbeat");
  CHECK(codec::agent_msg_id(agent, AgentSeq{42}) == agent.str() + ":42");
  CHECK(codec::payload_for_token("metrics") == schema::Payload::MetricsSample);
  CHECK_FALSE(codec::payload_for_token("nonsense").has_value());
  CHECK(codec::event_type_token(schema::Payload::NONE).empty());
}

TEST_CASE("the verifier rejects every truncation that cuts into data") {
  auto bytes = codec::build_heartbeat(golden::header(3), golden::heartbeat_info());
  REQUIRE(codec::verify_event(bytes).has_value());
  std::size_t rejected = 0;
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    CAPTURE(len);
    auto env = codec::verify_event(std::span(bytes.data(), len));
    if (!env) {
      ++rejected;
      continue;
    }
    // Only trailing alignment padding may go: what is left must read back unchanged.
    const auto* hb = (*env)->payload_as_Heartbeat();
    REQUIRE(hb != nullptr);
    CHECK(hb->agent_version()->str() == "0.1.0");
    CHECK(hb->oldest_unsent_age_s() == 42);
  }
  CHECK(rejected >= bytes.size() - 8);
}

TEST_CASE("bit flips never crash and a flipped identifier is rejected") {
  auto bytes = codec::build_agent_started(golden::header(1), golden::started_info());
  std::size_t accepted = 0;
  for (std::size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    auto copy = bytes;
    copy[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    auto env = codec::verify_event(copy);
    if (env) {
      // Accepted flips must still be safe to read in full (ASan checks the reads).
      ++accepted;
      if (const auto* s = (*env)->payload_as_AgentStarted(); s && s->hostname()) {
        CHECK(s->hostname()->size() <= copy.size());
      }
    }
    if (bit / 8 >= 4 && bit / 8 < 8) CHECK_FALSE(env.has_value());  // file identifier bytes
  }
  CHECK(accepted < bytes.size() * 8);
}

TEST_CASE("random input is rejected") {
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> junk(static_cast<std::size_t>(rng() % 512));
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    CHECK_FALSE(codec::verify_event(junk).has_value());
  }
}

TEST_CASE("envelopes no projector could use are rejected") {
  flatbuffers::FlatBufferBuilder fbb;
  auto h = golden::header(0);  // sequence 0 is invalid
  auto hb = schema::CreateHeartbeatDirect(fbb, "x");
  auto bytes = codec::finish_agent_event(fbb, h, schema::Payload::Heartbeat, hb.Union());
  auto env = codec::verify_event(bytes);
  REQUIRE_FALSE(env.has_value());
  CHECK(env.error().message.find("sequence") != std::string::npos);
  // A command is not an event.
  CHECK_FALSE(codec::verify_command(codec::build_heartbeat(golden::header(1), {})).has_value());
}
