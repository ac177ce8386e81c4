// The agent installer's routes (api/install/install_routes.h) against a real stack: the script and
// the one-line command made with a code, the enrollment credential given only for a valid code
// (with the endpoint's clear message otherwise), the package route's name check.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "admin/tenancy/enrollment_codes.h"
#include "admin/tenancy/intents.h"
#include "api/install/install_script.h"
#include "common/files.h"
#include "common/nats_jetstream.h"
#include "tests/api/intent_stack.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/tls_certs.h"
#include "tests/install/stderr_capture.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using schema::UserRole;

constexpr std::string_view kDebBytes = "!<arch>\nnot really a package, but bytes to hash\n";

// An API configured for installs: a package directory with one agent package, a CA to embed.
struct InstallApi {
  TempDir dir{"install"};
  TlsFiles tls;
  std::unique_ptr<api::App> app;
  std::string package = "gururmm-agent_1.2.3_amd64.deb";

  explicit InstallApi(IntentStack& s, int source_burst = 100) {
    tls = make_tls_files(dir / "tls");
    fs::create_directories(dir / "downloads");
    REQUIRE(files::write_atomic(dir / "downloads" / package, kDebBytes, 0644));
    // Not an agent package: never offered.
    REQUIRE(files::write_atomic(dir / "downloads" / "other_1.0_amd64.deb", "x", 0644));
    app = s.start_api([&](api::ApiConfig& c) {
      c.agent_packages_dir = (dir / "downloads").string();
      c.install_ca_file = tls.ca.string();
      c.public_nats_url = "tls://rmm.example.test:4222";
      c.login_source_burst = source_burst;
      // The buckets are in the stack's database, shared by every API of the test: a test that
      // drains one speaks from an address of its own (X-Forwarded-For).
      c.trusted_proxies = "127.0.0.1";
    });
  }
  int port() const { return app->port(); }
  HttpResponse get(const std::string& target, const std::map<std::string, std::string>& h = {}) {
    return http_request(port(), "GET", target, {}, h, 15s);
  }
  HttpResponse creds(const std::string& code, const std::string& from = {}) {
    std::map<std::string, std::string> h{{"X-Enrollment-Code", code}};
    if (!from.empty()) h["X-Forwarded-For"] = from;
    return get("/install/enroll.creds", h);
  }
};

boost::json::object create_code(IntentStack& s, int port, const TestUser& owner) {
  auto r = http_request(
      port, "POST", "/api/v1/enrollment-codes?wait=5000",
      R"({"site_id":")" + s.site_a.str() + R"("})",
      {{"Authorization", "Bearer " + owner.token}, {"Content-Type", "application/json"}}, 15s);
  REQUIRE_MESSAGE(r.status == 202, r.body);
  return json_body(r);
}

}  // namespace

TEST_CASE("install: a new code answers the one-line install; the script it pins is served") {
  auto& s = shared_stack();
  InstallApi api(s);
  auto owner = s.user(UserRole::Owner, {});
  auto created = create_code(s, api.port(), owner);
  const std::string code(created.at("code").as_string());
  REQUIRE(created.contains("install"));
  const std::string line(created.at("install").at("linux").as_string());
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find(fmt::format("'http://127.0.0.1:{}/install/linux.sh'", api.port())) !=
        std::string::npos);
  // The code goes to the script's standard input, not into a command line of its own.
  CHECK(line.find("echo '" + code + "' | $s sh") != std::string::npos);

  auto script = api.get("/install/linux.sh");
  REQUIRE(script.status == 200);
  CHECK(line.find("echo '" + tenancy::sha256_hex(script.body) + "  '") != std::string::npos);
  CHECK(script.body.starts_with("#!/bin/sh\n"));
  const fs::path saved = api.dir / "linux.sh";
  REQUIRE(files::write_atomic(saved, script.body, 0600));
  auto syntax = run_shell("sh -n " + saved.string());
  CHECK_MESSAGE(syntax.exit_code == 0, syntax.output);
  CHECK(script.body.find(*files::read_all(api.tls.ca)) != std::string::npos);
  CHECK(script.body.find("NATS_URL='tls://rmm.example.test:4222'") != std::string::npos);
  CHECK(script.body.find(fmt::format("'amd64') package='{}'; sha256='{}'", api.package,
                                     tenancy::sha256_hex(kDebBytes))) != std::string::npos);
  CHECK(script.body.find("other_1.0") == std::string::npos);
  CHECK_FALSE(std::regex_search(script.body, std::regex("@[A-Z_]+@")));  // every one filled

  // A newer package changes the script, so the old line's checksum no longer matches it.
  REQUIRE(
      files::write_atomic(api.dir / "downloads" / "gururmm-agent_1.2.4_amd64.deb", "newer", 0644));
  auto newer = api.get("/install/linux.sh");
  CHECK(newer.body.find("gururmm-agent_1.2.4_amd64.deb") != std::string::npos);
  CHECK(tenancy::sha256_hex(newer.body) != tenancy::sha256_hex(script.body));
}

TEST_CASE("install: over HTTPS the line and the script pin the key of rmm-api's certificate") {
  auto& s = shared_stack();
  TempDir dir("install-https");
  auto tls = make_tls_files(dir / "tls");
  fs::create_directories(dir / "downloads");
  REQUIRE(files::write_atomic(dir / "downloads" / "gururmm-agent_1_amd64.deb", kDebBytes, 0644));
  auto app = s.start_api([&](api::ApiConfig& c) {
    c.agent_packages_dir = (dir / "downloads").string();
    c.tls_cert = tls.cert.string();
    c.tls_key = tls.key.string();
  });
  auto owner = s.user(UserRole::Owner, {});
  const TlsTrust trust{.ca = tls.ca};
  auto r = https_request(app->port(), trust, "POST", "/api/v1/enrollment-codes?wait=5000",
                         R"({"site_id":")" + s.site_a.str() + R"("})",
                         {{"Authorization", "Bearer " + owner.token}}, 15s);
  REQUIRE_MESSAGE(r.status == 202, r.body);
  const std::string line(json_body(r).at("install").at("linux").as_string());
  CHECK(line.find(fmt::format("curl -fsSk --proto =https --pinnedpubkey '{}' -o \"$f\" "
                              "'https://127.0.0.1:{}/install/linux.sh'",
                              tls.pin, app->port())) != std::string::npos);
  auto script = https_request(app->port(), trust, "GET", "/install/linux.sh");
  REQUIRE(script.status == 200);
  CHECK(script.body.find("API_PIN='" + tls.pin + "'") != std::string::npos);
  CHECK(line.find("echo '" + tenancy::sha256_hex(script.body) + "  '") != std::string::npos);
}

TEST_CASE("install: the enrollment credential only for a valid code, with a clear message") {
  auto& s = shared_stack();
  InstallApi api(s);
  auto owner = s.user(UserRole::Owner, {});
  const std::string expected = *files::read_all(s.nats().home() / "nats" / "enroll.creds");

  auto created = create_code(s, api.port(), owner);
  const std::string code(created.at("code").as_string());
  StderrCapture log(api.dir / "stderr.log");
  auto ok = api.creds(code);
  auto wrong = api.creds(code.substr(0, code.size() - 1) + (code.back() == 'A' ? "B" : "A"));
  const std::string logged = log.text();
  CHECK(ok.status == 200);
  CHECK(ok.body == expected);
  CHECK(wrong.status == 403);
  // Neither the code nor a wrong guess is ever logged; the code's id is.
  CHECK(logged.find("install.enroll_creds_given") != std::string::npos);
  CHECK(logged.find(std::string(created.at("id").as_string())) != std::string::npos);
  CHECK(logged.find(code) == std::string::npos);
  CHECK(logged.find(code.substr(0, 11)) == std::string::npos);
  // Typed differently (lower case, no dashes) it is the same code.
  std::string loose;
  for (char c : code) {
    if (c != '-') loose += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  CHECK(api.creds(loose).status == 200);

  for (const std::string& bad :
       {std::string(), std::string("nonsense"), tenancy::generate_enrollment_code()}) {
    auto r = api.creds(bad);
    CHECK(r.status == 403);
    CHECK(r.body.find("unknown enrollment code") != std::string::npos);
    CHECK(r.body.find("NKEY") == std::string::npos);
  }
  CHECK(api.get("/install/enroll.creds").status == 403);  // no header at all

  auto revoked = create_code(s, api.port(), owner);
  auto rv = http_request(api.port(), "POST",
                         fmt::format("/api/v1/enrollment-codes/{}/revoke?wait=5000",
                                     std::string(revoked.at("id").as_string())),
                         "{}", {{"Authorization", "Bearer " + owner.token}}, 15s);
  REQUIRE(rv.status == 202);
  auto r = api.creds(std::string(revoked.at("code").as_string()));
  CHECK(r.status == 410);
  CHECK(r.body == "this enrollment code was revoked: ask for a new install line\n");

  // A code that expires at once (the API allows no TTL under a minute: made with the intents).
  auto js = nats::JetStream::create(s.services(), {});
  REQUIRE(js);
  tenancy::ControlPublisher publisher(**js, "test", real_clock());
  tenancy::Intents intents(publisher, nullptr, real_clock());
  auto expiring = intents.create_enrollment_code(s.site_a, 1ms, "test");
  REQUIRE(expiring);
  s.wait_projected(expiring->stream_seq.value);
  std::this_thread::sleep_for(5ms);
  auto e = api.creds(expiring->code);
  CHECK(e.status == 410);
  CHECK(e.body.starts_with("this enrollment code expired at 20"));
  CHECK(e.body.ends_with("Z: ask for a new install line\n"));
}

TEST_CASE("install: guessing codes is limited per source address") {
  auto& s = shared_stack();
  InstallApi api(s, /*source_burst=*/3);
  auto owner = s.user(UserRole::Owner, {});
  const std::string code(create_code(s, api.port(), owner).at("code").as_string());
  const std::string guesser = "203.0.113.61";
  for (int i = 0; i < 3; ++i) CHECK(api.creds("nonsense", guesser).status == 403);
  auto limited = api.creds("nonsense", guesser);
  CHECK(limited.status == 429);
  CHECK(limited.headers.count("retry-after") == 1);
  CHECK(api.creds(code, guesser).status == 429);  // the bucket is the address's, whatever the code
  CHECK(api.creds(code).status == 200);           // other addresses are not affected
}

TEST_CASE("install: packages by strict name only") {
  auto& s = shared_stack();
  InstallApi api(s);
  auto ok = api.get("/install/packages/" + api.package);
  CHECK(ok.status == 200);
  CHECK(ok.body == kDebBytes);
  // A link out of the directory is not followed.
  fs::create_symlink("/etc/passwd", api.dir / "downloads" / "gururmm-agent_9_amd64.deb");
  for (const std::string& target :
       {std::string("/install/packages/gururmm-agent_9_amd64.deb"),
        std::string("/install/packages/..%2f..%2fetc%2fpasswd"),
        std::string("/install/packages/%2e%2e%2fx.deb"), std::string("/install/packages/..deb"),
        std::string("/install/packages/.hidden.deb"), std::string("/install/packages/a%00.deb"),
        std::string("/install/packages/missing_1_amd64.deb"),
        std::string("/install/packages/../../etc/passwd")}) {
    auto r = api.get(target);
    CHECK_MESSAGE((r.status == 404 || r.status == 400), target);
    CHECK(r.body.find("root:") == std::string::npos);
  }
}

}  // namespace rmm::test
