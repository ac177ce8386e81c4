// GET /api/v1/live against the real stack: a user sees live events of its own agents only.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/event_codec.h"
#include "tests/api/intent_stack.h"
#include "tests/api/sse_client.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

IntentStack& stack() {
  return shared_stack();
}

void heartbeat(const AgentId& agent, std::uint64_t n) {
  codec::AgentEventHeader h{EventId::generate(real_clock()), agent, AgentSeq{n}, real_clock().now(),
                            schema::Lane::Presence};
  auto bytes = codec::build_heartbeat(h, {.agent_version = "test"});
  auto s = stack().services().publish(codec::agent_event_subject(agent, schema::Payload::Heartbeat),
                                      bytes);
  REQUIRE(s.has_value());
}

}  // namespace

TEST_CASE("live: events of visible agents only, filtered by the user's scopes") {
  auto& s = stack();
  auto tech =
      s.user(schema::UserRole::Technician, {{schema::PolicyScope::Client, s.client_a.bytes()}});
  auto owner = s.user(schema::UserRole::Owner, {});

  SseClient unauth(s.port(), "/api/v1/live");
  CHECK(unauth.wait_for("HTTP/1.1 401", 5s));

  SseClient a(s.port(), "/api/v1/live?access_token=" + tech.token);
  SseClient all(s.port(), "/api/v1/live?access_token=" + owner.token);
  REQUIRE(a.wait_for(": connected", 5s));
  REQUIRE(all.wait_for(": connected", 5s));
  CHECK(a.text().find("text/event-stream") != std::string::npos);

  // Presence: B's heartbeat first, so seeing A's proves B's was processed and filtered.
  heartbeat(s.agent_b, 1);
  heartbeat(s.agent_a, 1);
  const std::string online_a = R"("id":")" + s.agent_a.str() + R"(","status":"online")";
  const std::string online_b = R"("id":")" + s.agent_b.str() + R"(","status":"online")";
  CHECK(a.wait_for(online_a, 10s));
  CHECK(all.wait_for(online_b, 10s));
  CHECK(all.wait_for(online_a, 10s));
  CHECK(a.text().find(s.agent_b.str()) == std::string::npos);

  // A command issued through the API shows up as `command` with status queued.
  auto r =
      s.call("POST", "/api/v1/commands",
             R"({"agent_ids":[")" + s.agent_a.str() + R"("],"kind":"refresh_inventory"})", tech);
  REQUIRE(r.status == 202);
  std::string id(json_body(r).at("commands").as_array()[0].at("id").as_string());
  CHECK(a.wait_for("event: command\ndata: {\"id\":\"" + id, 10s));
  CHECK(a.text().find(R"("status":"queued")") != std::string::npos);

  auto rb =
      s.call("POST", "/api/v1/commands",
             R"({"agent_ids":[")" + s.agent_b.str() + R"("],"kind":"refresh_inventory"})", owner);
  REQUIRE(rb.status == 202);
  std::string id_b(json_body(rb).at("commands").as_array()[0].at("id").as_string());
  CHECK(all.wait_for(id_b, 10s));
  // The owner's stream got B's command; give A's the same chance, then check it stayed out.
  heartbeat(s.agent_a, 2);
  a.wait_for("never", 1500ms);
  CHECK(a.text().find(id_b) == std::string::npos);
  CHECK(a.text().find(s.agent_b.str()) == std::string::npos);
}

TEST_CASE("live: the stream over HTTPS delivers events and ends with close_notify") {
  auto& s = stack();
  TempDir dir("live-tls");
  const auto tls = make_tls_files(dir / "tls");
  auto api = s.start_api([&](api::ApiConfig& c) {
    c.enroll_home.clear();
    c.tls_cert = tls.cert.string();
    c.tls_key = tls.key.string();
  });
  auto owner = s.user(schema::UserRole::Owner, {});
  SseClient live(api->port(), "/api/v1/live?access_token=" + owner.token, tls.ca);
  REQUIRE_MESSAGE(live.wait_for(": connected", 5s), live.text());
  CHECK(live.text().find("Strict-Transport-Security: max-age=31536000") != std::string::npos);

  heartbeat(s.agent_a, 3);
  CHECK(live.wait_for(R"("id":")" + s.agent_a.str() + R"(","status":"online")", 10s));
  api->stop();
  CHECK(live.wait_closed(5s));
  CHECK(live.closed_cleanly());
}

namespace {

const std::string kReplaced = "event: bye\ndata: {\"reason\":\"replaced\"}";

std::unique_ptr<SseClient> open_stream(int port, const std::string& token) {
  auto c = std::make_unique<SseClient>(port, "/api/v1/live?access_token=" + token);
  return c;
}

// Opens a stream and REQUIREs that it is served.
std::unique_ptr<SseClient> connected(int port, const std::string& token) {
  auto c = open_stream(port, token);
  REQUIRE_MESSAGE(c->wait_for(": connected", 5s), c->text());
  return c;
}

// True when `c` was ended because a newer stream replaced it.
bool replaced(SseClient& c) {
  return c.wait_closed(5s) && c.text().find(kReplaced) != std::string::npos;
}

}  // namespace

TEST_CASE("live: one user's streams cannot take them all; the owner still gets one") {
  auto& s = stack();
  auto reader = s.user(schema::UserRole::ReadOnly, {});
  auto owner = s.user(schema::UserRole::Owner, {});
  // Before: the 256 streams of one read-only user made the owner's GET a 503.
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 256; ++i) {
    streams.push_back(open_stream(s.port(), reader.token));
    REQUIRE(streams.back()->wait_for("\r\n\r\n", 5s));
  }
  auto mine = connected(s.port(), owner.token);
  // Only the reader's newest 8 (its sign-in's limit) are still open.
  int open = 0;
  for (auto& c : streams) {
    if (!c->wait_closed(100ms)) ++open;
  }
  CHECK(open == 8);
  CHECK(replaced(*streams.front()));
}

TEST_CASE("live: per-session and per-user limits, the newest wins; owners keep their share") {
  auto& s = stack();
  // 12 streams in all, 4 kept for owners; 4 per user, 2 per sign-in.
  auto api = s.start_api([](api::ApiConfig& c) {
    c.enroll_home.clear();
    c.live_max_streams = 12;
    c.live_max_per_user = 4;
    c.live_max_per_session = 2;
  });
  const int port = api->port();
  auto r1 = s.user(schema::UserRole::ReadOnly, {});
  auto r2 = s.user(schema::UserRole::Technician, {});
  auto r3 = s.user(schema::UserRole::Admin, {});
  auto o1 = s.user(schema::UserRole::Owner, {});
  auto o2 = s.user(schema::UserRole::Owner, {});

  // One sign-in: a third stream ends the first.
  auto a1 = connected(port, r1.token);
  auto a2 = connected(port, r1.token);
  auto a3 = connected(port, r1.token);
  CHECK(replaced(*a1));
  CHECK_FALSE(a2->wait_closed(200ms));
  // A second sign-in of the same user: per sign-in first, then per user (a2, a3, b2, b3 open).
  const std::string t2 = s.new_session(r1.id);
  auto b1 = connected(port, t2);
  auto b2 = connected(port, t2);
  auto b3 = connected(port, t2);
  CHECK(replaced(*b1));
  // A third sign-in: the user has 4 already, so its oldest (a2) goes.
  auto c1 = connected(port, s.new_session(r1.id));
  CHECK(replaced(*a2));
  CHECK_FALSE(a3->wait_closed(200ms));

  // Another user fills what is not kept for owners (8); a third is refused.
  std::vector<std::unique_ptr<SseClient>> r2_streams;
  for (int i = 0; i < 4; ++i) {
    r2_streams.push_back(connected(port, i < 2 ? r2.token : s.new_session(r2.id)));
  }
  auto refused = open_stream(port, r3.token);
  CHECK(refused->wait_for("HTTP/1.1 503", 5s));

  // Owners still get theirs, and when everything is taken, an owner replaces the oldest stream
  // of someone who is not an owner (a3), never an owner's.
  std::vector<std::unique_ptr<SseClient>> o1_streams;
  for (int i = 0; i < 4; ++i) {
    o1_streams.push_back(connected(port, i < 2 ? o1.token : s.new_session(o1.id)));
  }
  auto o2_stream = connected(port, o2.token);
  CHECK(replaced(*a3));
  for (auto& o : o1_streams) CHECK_FALSE(o->wait_closed(0ms));
  CHECK_FALSE(b2->wait_closed(0ms));
  auto still_refused = open_stream(port, r3.token);
  CHECK(still_refused->wait_for("HTTP/1.1 503", 5s));
  api->stop();
}
