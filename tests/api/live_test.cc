// GET /api/v1/live against the real stack: a user sees live events of its own agents only.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "common/event_codec.h"
#include "tests/api/intent_stack.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;

namespace {

// A raw SSE client: sends the request, then accumulates what arrives.
class SseClient {
 public:
  SseClient(int port, const std::string& target) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    REQUIRE(::send(fd_, req.data(), req.size(), 0) == static_cast<ssize_t>(req.size()));
  }
  ~SseClient() { ::close(fd_); }

  // Reads until `needle` arrived (true) or `limit` passed (false).
  bool wait_for(const std::string& needle, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (text_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return false;
      text_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  const std::string& text() const { return text_; }

 private:
  int fd_ = -1;
  std::string text_;
};

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
