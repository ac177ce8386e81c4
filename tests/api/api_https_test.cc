// rmm-api over HTTPS (issue 14 §1): served with a certificate made by gururmm-certs, trusted by
// clients that pin its CA; refused to clients that do not; no HTTP answer to plain HTTP; a
// renewed certificate served without a restart.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "common/clock.h"
#include "tests/api/api_env.h"
#include "tests/fixtures/http_client.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

using namespace rmm;
using namespace rmm::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::function<void(api::ApiConfig&)> serve_tls(const TlsFiles& tls) {
  return [&tls](api::ApiConfig& c) {
    c.tls_cert = tls.cert.string();
    c.tls_key = tls.key.string();
  };
}

// /healthz over HTTPS until it is 200 (the NATS connect may still be in flight).
HttpResponse healthy(int port, const TlsTrust& trust) {
  HttpResponse res;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(100ms)) {
    res = https_get(port, trust, "/healthz");
    if (res.status == 200) break;
  }
  return res;
}

// Sends `request` as plain bytes and returns whatever comes back before the server closes (or
// 5 s pass).
std::string raw_exchange(int port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  if (!request.empty()) {
    REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  }
  std::string got;
  for (int i = 0; i < 100; ++i) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) break;
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return got;
}

// The value of an unlabelled series in a Prometheus text exposition; -1 when absent.
double metric(const std::string& text, const std::string& name) {
  auto at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + name.size() + 2, nullptr);
}

}  // namespace

TEST_CASE("HTTPS: healthz and a signed-in read with the pinned CA, over keep-alive, with HSTS") {
  TempDir dir("api-https");
  const auto tls = make_tls_files(dir / "tls");
  ApiEnv env("api_https", real_clock(), serve_tls(tls));
  const TlsTrust trust{.ca = tls.ca};

  auto health = healthy(env.port(), trust);
  REQUIRE(health.status == 200);
  CHECK(health.peer_certificate_sha256 == certificate_sha256(tls.cert));
  CHECK(health.headers.at("strict-transport-security") == "max-age=31536000");

  env.add_user("tls-owner", "owner", {{"global", kNilUuid}});
  auto login = https_request(env.port(), trust, "POST", "/api/v1/auth/login",
                             R"({"username":"tls-owner","password":"correct horse battery"})");
  REQUIRE_MESSAGE(login.status == 200, login.body);
  const std::string token(parse_object(login.body).at("token").as_string());
  auto agents = https_request(env.port(), trust, "GET", "/api/v1/agents", {},
                              {{"authorization", "Bearer " + token}});
  CHECK(agents.status == 200);
  CHECK(parse_object(agents.body).contains("items"));
  CHECK(https_get(env.port(), trust, "/api/v1/agents").status == 401);

  // Keep-alive: three requests on one TLS connection.
  auto all = https_get_all(env.port(), trust, {"/healthz", "/api/v1/openapi.json", "/healthz"});
  REQUIRE(all.size() == 3);
  for (const auto& r : all) CHECK(r.status == 200);
}

TEST_CASE("HTTPS: an untrusting client, a wrong name and plain HTTP get nothing, and are counted") {
  TempDir dir("api-https-refused");
  const auto tls = make_tls_files(dir / "tls");
  const auto other = make_tls_files(dir / "other");  // another installation's CA
  ApiEnv env("api_https_refused", real_clock(), [&](api::ApiConfig& c) {
    serve_tls(tls)(c);
    c.request_timeout = 1s;
  });
  REQUIRE(healthy(env.port(), {.ca = tls.ca}).status == 200);

  // A client that never starts the handshake is closed after request-timeout.
  const auto silent_from = std::chrono::steady_clock::now();
  CHECK(raw_exchange(env.port(), "").empty());
  CHECK(std::chrono::steady_clock::now() - silent_from < 4s);

  CHECK_THROWS_WITH(https_get(env.port(), {.ca = other.ca}, "/healthz"),
                    doctest::Contains("TLS handshake"));
  CHECK_THROWS_WITH(https_get(env.port(), {.ca = tls.ca, .host = "rmm.example.com"}, "/healthz"),
                    doctest::Contains("TLS handshake"));

  // Plain HTTP to the HTTPS port: the handshake fails on it, and no HTTP answer comes back.
  const std::string answer =
      raw_exchange(env.port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(answer.find("HTTP/") == std::string::npos);
  CHECK(answer.find("\"status\"") == std::string::npos);
  CHECK_THROWS(http_get(env.port(), "/healthz"));

  // The server still serves, and counted every failed handshake (the silent client, plain HTTP
  // twice; the untrusting clients abort theirs, which the server may see as a failure too).
  auto scrape = https_get(env.port(), {.ca = tls.ca}, "/metrics");
  REQUIRE(scrape.status == 200);
  CHECK(metric(scrape.body, "rmm_api_tls_handshake_failures_total") >= 3);
}

TEST_CASE("HTTPS: a renewed certificate is served to new connections without a restart") {
  TempDir dir("api-https-rotate");
  const auto tls = make_tls_files(dir / "tls");
  FakeClock clock;
  ApiEnv env("api_https_rotate", clock, serve_tls(tls));
  const TlsTrust trust{.ca = tls.ca};
  const std::string before = certificate_sha256(tls.cert);
  REQUIRE(healthy(env.port(), trust).peer_certificate_sha256 == before);

  const std::string cmd =
      certs_tool().string() + " rotate --dir " + tls.dir.string() + " >/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string after = certificate_sha256(tls.cert);
  REQUIRE(after != before);

  // Checked at most once a minute: not yet.
  clock.advance(30s);
  CHECK(https_get(env.port(), trust, "/healthz").peer_certificate_sha256 == before);
  clock.advance(31s);
  auto renewed = https_get(env.port(), trust, "/healthz");
  CHECK(renewed.status == 200);
  CHECK(renewed.peer_certificate_sha256 == after);

  // A pair that does not load (a half-written renewal) leaves the loaded one in service.
  std::ofstream(tls.cert) << "-----BEGIN CERTIFICATE-----\nnot one\n";
  clock.advance(61s);
  auto kept = https_get(env.port(), trust, "/healthz");
  CHECK(kept.status == 200);
  CHECK(kept.peer_certificate_sha256 == after);
}

TEST_CASE("the rmm-api binary: HTTPS from --tls-cert/--tls-key; plain HTTP off loopback refused") {
  TempDir dir("api-https-bin");
  const auto tls = make_tls_files(dir / "tls");
  const std::string bin = std::string(RMM_BIN_DIR) + "/rmm-api";

  Process refused = Process::start(
      {bin, {"--listen", "0.0.0.0:" + std::to_string(free_tcp_port())}, {}, dir / "refused.log"});
  CHECK(refused.wait(10s) == 2);
  std::ifstream refused_log(dir / "refused.log");
  const std::string why((std::istreambuf_iterator<char>(refused_log)), {});
  CHECK(why.find("allow-plain-http") != std::string::npos);

  Process bad_key = Process::start({bin,
                                    {"--listen", "127.0.0.1:" + std::to_string(free_tcp_port()),
                                     "--tls-cert", tls.cert.string(), "--tls-key", tls.ca.string()},
                                    {},
                                    dir / "bad_key.log"});
  CHECK(bad_key.wait(10s) == 1);

  const int port = free_tcp_port();
  Process api = Process::start({bin,
                                {"--listen", "127.0.0.1:" + std::to_string(port), "--tls-cert",
                                 tls.cert.string(), "--tls-key", tls.key.string()},
                                {},
                                dir / "api.log"});
  HttpResponse res;
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline && res.status == 0;
       std::this_thread::sleep_for(100ms)) {
    try {
      res = https_get(port, {.ca = tls.ca}, "/healthz");
    } catch (const std::exception&) {
      // not listening yet
    }
  }
  CHECK(res.status != 0);  // 503 without PostgreSQL: answered over HTTPS all the same
  CHECK(res.peer_certificate_sha256 == certificate_sha256(tls.cert));
  CHECK(api.terminate(10s) == 0);
}
