// TLS on the NATS hop (issue 14 §1): a client pins one CA, checks the server's name and refuses
// plaintext, against a real nats-server that requires TLS (and a plaintext one).
#include "common/nats_tls.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "admin/streams.h"
#include "common/nats_connection.h"
#include "tests/fixtures/nats_server.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

using namespace rmm;
namespace fs = std::filesystem;

namespace {

nats::ConnectOptions services(const test::NatsServerFixture& nats, nats::TlsClientOptions tls) {
  return {.url = nats.url(),
          .creds_file = nats.services_creds().string(),
          .name = "tls-test",
          .tls_ca_file = tls.ca_file,
          .tls_server_name = tls.server_name,
          .max_reconnect = 0};
}

std::string connect_error(nats::ConnectOptions options) {
  auto c = nats::Connection::connect(std::move(options));
  REQUIRE_FALSE(c.has_value());
  return c.error().message;
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// Sets environment variables for one scope (the system store OpenSSL would read by default).
class EnvFor {
 public:
  EnvFor(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name); old != nullptr) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~EnvFor() { old_ ? (void)::setenv(name_, old_->c_str(), 1) : (void)::unsetenv(name_); }
  EnvFor(const EnvFor&) = delete;
  EnvFor& operator=(const EnvFor&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("url_hosts and is_loopback_host") {
  auto hosts = nats::url_hosts("nats://u:p@127.0.0.1:4222, tls://[::1]:4223,localhost,rmm.example");
  REQUIRE(hosts.has_value());
  CHECK(*hosts == std::vector<std::string>{"127.0.0.1", "::1", "localhost", "rmm.example"});
  CHECK_FALSE(nats::url_hosts("nats://127.0.0.1:4222,").has_value());
  CHECK_FALSE(nats::url_hosts("nats://:4222").has_value());
  CHECK(nats::is_loopback_host("127.0.0.1"));
  CHECK(nats::is_loopback_host("127.9.8.7"));
  CHECK(nats::is_loopback_host("::1"));
  CHECK(nats::is_loopback_host("LocalHost"));
  CHECK_FALSE(nats::is_loopback_host("128.0.0.1"));
  CHECK_FALSE(nats::is_loopback_host("198.18.0.1"));
  CHECK_FALSE(nats::is_loopback_host("localhost.example.com"));
  CHECK_FALSE(nats::is_loopback_host("::"));
}

TEST_CASE("a TLS nats-server: the pinned CA connects, anything else is refused with its cause") {
  test::NatsServerFixture nats({.apply_streams = false, .tls = true});
  const auto& files = nats.tls_files();
  REQUIRE(fs::exists(files.ca));

  SUBCASE("the right CA connects and publishes; the name defaults to the URL's host") {
    auto c = nats::Connection::connect(services(nats, nats.tls()));
    REQUIRE_MESSAGE(c.has_value(), c.error().message);
    CHECK((*c)->connected());
    static const std::uint8_t kData[] = {'h', 'i'};
    CHECK((*c)->publish("tls.test", kData).has_value());
    CHECK((*c)->flush(std::chrono::seconds(2)).has_value());
    // A request answered by the server: the round trip went through TLS.
    auto reply = (*c)->request("$JS.API.INFO", {}, std::chrono::seconds(2));
    CHECK(reply.has_value());
    // localhost is in the certificate too.
    auto by_name = services(nats, nats.tls());
    by_name.url = "nats://localhost:" + std::to_string(nats.port());
    auto c2 = nats::Connection::connect(by_name);
    CHECK_MESSAGE(c2.has_value(), c2.error().message);
    // The admin tools' connection too.
    auto raw = broker::connect_with_creds(nats.url(), nats.services_creds(), nats.tls());
    REQUIRE_MESSAGE(raw.has_value(), raw.error().message);
    natsConnection_Destroy(*raw);
  }

  SUBCASE("a different CA is refused") {
    test::TempDir other("other-ca");
    auto other_files = test::make_tls_files(other.path());
    auto e = connect_error(services(nats, {.ca_file = other_files.ca.string()}));
    CHECK_MESSAGE(has(e, "not signed by the pinned CA " + other_files.ca.string()), e);
    auto raw = broker::connect_with_creds(nats.url(), nats.services_creds(),
                                          {.ca_file = other_files.ca.string()});
    REQUIRE_FALSE(raw.has_value());
    CHECK_MESSAGE(has(raw.error().message, "not signed by the pinned CA"), raw.error().message);
  }

  SUBCASE("the system store is not trusted when a CA is pinned") {
    // OpenSSL's default store is SSL_CERT_FILE / SSL_CERT_DIR when set: make the server's own CA
    // "system-trusted" that way, then pin another one. nats.c 3.4.1 loads the default store into
    // every TLS context; a pinned client must still refuse.
    test::TempDir system("system-store");
    fs::copy_file(files.ca, system / "ca.pem");
    REQUIRE(std::system(
                ("openssl rehash " + system.path().string() + " >/dev/null 2>&1").c_str()) == 0);
    test::TempDir other("other-ca");
    auto other_files = test::make_tls_files(other.path());
    EnvFor file("SSL_CERT_FILE", files.ca.string());
    EnvFor dir("SSL_CERT_DIR", system.path().string());
    auto e = connect_error(services(nats, {.ca_file = other_files.ca.string()}));
    CHECK_MESSAGE(has(e, "not signed by the pinned CA"), e);
    // The store set up this way is what OpenSSL trusts otherwise (the test's premise): a
    // plaintext-configured client to loopback, upgraded by the server, verifies against it.
    auto upgraded = nats::Connection::connect(services(nats, {}));
    CHECK_MESSAGE(upgraded.has_value(), upgraded.error().message);
  }

  SUBCASE("a wrong expected name is refused") {
    auto e = connect_error(
        services(nats, {.ca_file = files.ca.string(), .server_name = "rmm.example.com"}));
    CHECK_MESSAGE(has(e, "not valid for the name rmm.example.com"), e);
  }

  SUBCASE("a client without a CA is refused by the TLS server") {
    auto e = connect_error(services(nats, {}));
    CHECK_MESSAGE(has(e, "the server requires TLS, but no nats-ca is set"), e);
    auto raw = broker::connect_with_creds(nats.url(), nats.services_creds());
    REQUIRE_FALSE(raw.has_value());
    CHECK_MESSAGE(has(raw.error().message, "no nats-ca is set"), raw.error().message);
  }

  SUBCASE("a refused TLS connect fails at once, also in background-retry mode") {
    test::TempDir other("other-ca");
    auto other_files = test::make_tls_files(other.path());
    auto options = services(nats, {.ca_file = other_files.ca.string()});
    options.retry_on_failed_connect = true;
    options.max_reconnect = -1;
    auto e = connect_error(options);
    CHECK_MESSAGE(has(e, "not signed by the pinned CA"), e);
  }
}

TEST_CASE("a TLS client to a plaintext nats-server is refused") {
  test::NatsServerFixture plain({.apply_streams = false});
  test::TempDir certs("ca");
  auto files = test::make_tls_files(certs.path());
  auto e = connect_error(services(plain, {.ca_file = files.ca.string()}));
  CHECK_MESSAGE(has(e, "the server does not offer TLS"), e);
  // The same client without a CA is the plaintext the fixture serves (loopback).
  auto c = nats::Connection::connect(services(plain, {}));
  CHECK_MESSAGE(c.has_value(), c.error().message);
}

TEST_CASE("no CA and a non-loopback URL: refused before any connection attempt") {
  // 198.18.0.0/15 is reserved for network tests; nothing is sent there: the refusal comes first.
  const auto start = std::chrono::steady_clock::now();
  auto e = connect_error({.url = "nats://198.18.0.1:4222",
                          .creds_file = "/nonexistent.creds",
                          .timeout = std::chrono::seconds(5),
                          .max_reconnect = 0});
  CHECK_MESSAGE(has(e, "refusing a plaintext NATS connection to 198.18.0.1"), e);
  auto raw = broker::connect_with_creds("nats://127.0.0.1:4222,nats://rmm.example.com:4222",
                                        "/nonexistent.creds");
  REQUIRE_FALSE(raw.has_value());
  CHECK_MESSAGE(has(raw.error().message, "refusing a plaintext NATS connection to rmm.example.com"),
                raw.error().message);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(1));
  // Misconfiguration of the TLS settings is named too.
  e = connect_error({.url = "nats://rmm.example.com:4222", .tls_ca_file = "/nonexistent/ca.pem"});
  CHECK_MESSAGE(has(e, "nats-ca /nonexistent/ca.pem: no such file"), e);
  test::TempDir certs("ca");
  auto files = test::make_tls_files(certs.path());
  e = connect_error(
      {.url = "nats://a.example:4222,nats://b.example:4222", .tls_ca_file = files.ca.string()});
  CHECK_MESSAGE(has(e, "set nats-tls-name"), e);
}
