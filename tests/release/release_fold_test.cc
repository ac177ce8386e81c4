// The projector's decoding of UpdateProgress (agent event) and of the release and rollout control
// events: what reaches agent_updates, releases and rollouts.
#include "projector/folds/release_fold.h"

#include <doctest/doctest.h>

#include "common/event_codec.h"
#include "common/update_events.h"
#include "projector/folds/decode.h"

using namespace rmm;

TEST_CASE("an UpdateProgress event decodes into an agent_updates row change") {
  AgentId agent = AgentId::generate(real_clock());
  CommandId command = CommandId::generate(real_clock());
  codec::UpdateProgressInfo info{command,       "1.0.0",
                                 "2.0.0",       schema::UpdateStep::Refused,
                                 "unknown_key", "signed by an untrusted key"};
  auto bytes = codec::build_update_progress(
      {EventId::generate(real_clock()), agent, AgentSeq{5}, real_clock().now()}, info);
  std::string subject = "rmm.p.3.evt." + agent.str() + "." +
                        std::string(codec::event_type_token(schema::Payload::UpdateProgress));
  auto decoded = projector::decode_message(subject, bytes);
  const auto* ev = std::get_if<projector::AgentEvent>(&decoded);
  REQUIRE(ev != nullptr);
  const auto* row = std::get_if<projector::UpdateProgressRow>(&ev->body);
  REQUIRE(row != nullptr);
  CHECK(row->command == command);
  CHECK(row->step == "refused");
  CHECK(row->reason == "unknown_key");
  CHECK(row->to_version == "2.0.0");
}

TEST_CASE("release and rollout control events decode; a rollout without rings is refused") {
  codec::ControlEventHeader h{EventId::generate(real_clock()),
                              ControlSourceId::generate(real_clock()), "release", 1, 1};
  auto published = codec::build_release_published(
      h, {"2.0.0", "linux", "x86_64", 10, std::string(64, 'b'), "{}", "sig", "kid", "admin:x"});
  auto env = codec::verify_event(published);
  REQUIRE(env.has_value());
  CHECK(projector::is_release_payload((*env)->payload_type()));
  auto change = projector::decode_release_change(**env);
  REQUIRE(change.has_value());
  CHECK(std::get<codec::ReleasePublishedInfo>(*change).key_id == "kid");

  codec::RolloutCreatedInfo empty{RolloutId::generate(real_clock()),
                                  "2.0.0",
                                  "linux",
                                  "x86_64",
                                  {},
                                  {},
                                  100,
                                  20,
                                  {"admin:x", ""}};
  auto created = codec::build_rollout_created(h, empty);
  env = codec::verify_event(created);
  REQUIRE(env.has_value());
  CHECK_FALSE(projector::decode_release_change(**env).has_value());
}
