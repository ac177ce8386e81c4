// RMM_COMMANDS is a `discard new` stream: when it is full the API refuses a command with a
// message for the user (507) and logs nothing for it, rather than dropping it or leaving a
// CommandIssued whose command never reached the stream.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <thread>

#include "admin/streams.h"
#include "common/stream_usage.h"
#include "tests/api/intent_stack.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

// Sets RMM_COMMANDS' byte limit (and nothing else) through the JetStream API.
void set_commands_limit(IntentStack& s, std::int64_t max_bytes) {
  natsConnection* nc = s.services().raw();
  auto info = broker::js_api_request(nc, "$JS.API.STREAM.INFO.RMM_COMMANDS", "", 5s);
  REQUIRE(info.has_value());
  auto config = info->at("config").as_object();
  config["max_bytes"] = max_bytes;
  auto updated = broker::js_api_request(nc, "$JS.API.STREAM.UPDATE.RMM_COMMANDS",
                                        boost::json::serialize(config), 5s);
  REQUIRE_MESSAGE(updated.has_value(), updated.error().message);
}

std::uint64_t events_last_seq(IntentStack& s) {
  jsCtx* js = nullptr;
  REQUIRE(natsConnection_JetStream(&js, s.services().raw(), nullptr) == NATS_OK);
  auto u = nats::read_stream_usage(js, "RMM_EVENTS");
  jsCtx_Destroy(js);
  REQUIRE(u.has_value());
  return u->last_seq;
}

}  // namespace

TEST_CASE("commands: a full command stream refuses a command (507) and logs nothing for it") {
  auto& s = shared_stack();
  auto owner = s.user(schema::UserRole::Owner, {});
  const std::string body = R"({"agent_ids":[")" + s.agent_a.str() +
                           R"("],"kind":"shell","script":"echo full","timeout_s":30})";

  natsConnection* nc = s.services().raw();
  auto info = broker::js_api_request(nc, "$JS.API.STREAM.INFO.RMM_COMMANDS", "", 5s);
  REQUIRE(info.has_value());
  const auto original = info->at("config").at("max_bytes").to_number<std::int64_t>();
  const auto held = info->at("state").at("bytes").to_number<std::int64_t>();
  // No room for one more command: the limit is what the stream holds now.
  set_commands_limit(s, std::max<std::int64_t>(held, 1));
  std::this_thread::sleep_for(2100ms);  // past the API's usage cache

  const auto before = events_last_seq(s);
  auto r = s.call("POST", "/api/v1/commands", body, owner);
  set_commands_limit(s, original);
  CHECK(r.status == 507);
  CHECK(r.body.find("command queue is full") != std::string::npos);
  CHECK(r.body.find("JetStream") == std::string::npos);  // no internals for the client
  CHECK(events_last_seq(s) == before);                   // no CommandIssued for it

  std::this_thread::sleep_for(2100ms);
  auto ok = s.call("POST", "/api/v1/commands", body, owner);
  CHECK(ok.status == 202);
}
