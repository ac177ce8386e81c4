// GET /api/v1/live against the real stack: a user sees live events of its own agents only.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/event_codec.h"
#include "tests/api/intent_stack.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A raw SSE client: sends the request, then accumulates what arrives. With a CA: over TLS
// (OpenSSL on the same socket), trusting that CA only, for the name 127.0.0.1.
class SseClient {
 public:
  SseClient(int port, const std::string& target, const fs::path& ca = {}) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    if (!ca.empty()) {
      ctx_ = SSL_CTX_new(TLS_client_method());
      REQUIRE(SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr) == 1);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
      ssl_ = SSL_new(ctx_);
      REQUIRE(SSL_set1_host(ssl_, "127.0.0.1") == 1);
      REQUIRE(SSL_set_fd(ssl_, fd_) == 1);
      REQUIRE_MESSAGE(SSL_connect(ssl_) == 1, "TLS handshake failed");
    }
    std::string req =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    const auto sent = ssl_ != nullptr ? SSL_write(ssl_, req.data(), static_cast<int>(req.size()))
                                      : ::send(fd_, req.data(), req.size(), 0);
    REQUIRE(sent == static_cast<ssize_t>(req.size()));
  }
  ~SseClient() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    ::close(fd_);
  }

  // Reads until `needle` arrived (true) or `limit` passed (false).
  bool wait_for(const std::string& needle, std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (text_.find(needle) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      if (read_some(static_cast<int>(left.count())) < 0) return false;
    }
    return true;
  }
  // True when the server closed the connection within `limit` (0: only what already arrived).
  bool wait_closed(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (true) {
      auto left = std::max<std::int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                deadline - std::chrono::steady_clock::now())
                                                .count());
      const int got = read_some(static_cast<int>(left));
      if (got < 0) return true;
      if (got == 0 && left == 0) return false;
    }
  }
  const std::string& text() const { return text_; }
  // TLS: the server ended the stream with close_notify (not a cut connection).
  bool closed_cleanly() const { return clean_close_; }

 private:
  // Appends what arrives within `ms`: 1 read, 0 nothing yet, -1 closed.
  int read_some(int ms) {
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, ms) <= 0) return 0;
    }
    char buf[4096];
    ssize_t n = 0;
    if (ssl_ != nullptr) {
      n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) {
        const int err = SSL_get_error(ssl_, static_cast<int>(n));
        if (err == SSL_ERROR_WANT_READ) return 0;  // a record not complete yet
        clean_close_ = err == SSL_ERROR_ZERO_RETURN;
        return -1;
      }
    } else {
      n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return -1;
    }
    text_.append(buf, static_cast<std::size_t>(n));
    return 1;
  }

  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool clean_close_ = false;
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
