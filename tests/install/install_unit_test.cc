// The installer's pieces without a stack: the key pin against gururmm-certs' own, the rendering's
// refusals, the line's form, and curl's behaviour the line relies on (-k still checks the pin).
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <thread>

#include "api/install/install_script.h"
#include "api/install/key_pin.h"
#include "tests/fixtures/netns.h"
#include "tests/fixtures/ports.h"
#include "tests/fixtures/process.h"
#include "tests/fixtures/temp_dir.h"
#include "tests/fixtures/tls_certs.h"

namespace rmm::test {
namespace {

using namespace std::chrono_literals;
using api::install::AgentPackage;
using api::install::ScriptInputs;

ScriptInputs inputs() {
  return ScriptInputs{
      .api_url = "https://rmm.example.test",
      .nats_url = "tls://rmm.example.test:4222",
      .ca_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
      .packages = {AgentPackage{"amd64", "gururmm-agent_1_amd64.deb", std::string(64, 'a')}}};
}

}  // namespace

TEST_CASE("install: the key pin is the one gururmm-certs shows") {
  TempDir dir("pin");
  auto tls = make_tls_files(dir / "tls");
  auto pin = api::install::public_key_pin(tls.cert);
  REQUIRE(pin);
  CHECK(*pin == tls.pin);
  CHECK_FALSE(api::install::public_key_pin(tls.key));  // a key is not a certificate
}

TEST_CASE("install: values that could break out of the script's quotes are refused") {
  CHECK(api::install::render_linux_script(inputs()));
  auto bad = [](auto change) {
    auto in = inputs();
    change(in);
    return !api::install::render_linux_script(in).has_value();
  };
  CHECK(bad([](ScriptInputs& in) { in.api_url = "https://x'; rm -rf /; '"; }));
  CHECK(bad([](ScriptInputs& in) { in.api_url = "ftp://x"; }));
  CHECK(bad([](ScriptInputs& in) { in.nats_url = "tls://x:1 $(id)"; }));
  CHECK(bad([](ScriptInputs& in) { in.ca_pem = "not a pem"; }));
  CHECK(bad([](ScriptInputs& in) { in.ca_pem += "GURURMM_CA_END\nrm -rf /\n"; }));
  CHECK(bad([](ScriptInputs& in) { in.packages[0].file = "../gururmm-agent_1_amd64.deb"; }));
  CHECK(bad([](ScriptInputs& in) { in.packages[0].sha256 = "abc"; }));
  CHECK(bad([](ScriptInputs& in) { in.packages[0].arch = "amd64') rm -rf / ;; ('"; }));
  CHECK(bad([](ScriptInputs& in) { in.api_pin = "sha256//x' y"; }));
  CHECK_FALSE(api::install::linux_install_line({.api_url = "https://x",
                                                .script_sha256 = std::string(64, 'a'),
                                                .key_pin = "sha256//x",
                                                .code = "a'b"}));
}

TEST_CASE("install: the script's downloads pin rmm-api's key like the line") {
  auto in = inputs();
  in.api_pin = "sha256//PIN=";
  auto script = api::install::render_linux_script(in);
  REQUIRE(script);
  CHECK(script->find("API_PIN='sha256//PIN='") != std::string::npos);
  CHECK(script->find(R"(tls="-k --pinnedpubkey $API_PIN")") != std::string::npos);
}

TEST_CASE("install: without a pin an https line checks the system's CAs, never -k") {
  auto line = api::install::linux_install_line(
      {.api_url = "https://rmm.example.test", .script_sha256 = std::string(64, 'a'), .code = "X"});
  REQUIRE(line);
  CHECK(line->find("curl -fsS --proto =https -o") != std::string::npos);
  CHECK(line->find("-k") == std::string::npos);
}

TEST_CASE("install: an https line pins the key and keeps the code out of command lines") {
  auto line = api::install::linux_install_line({.api_url = "https://rmm.example.test",
                                                .script_sha256 = std::string(64, 'b'),
                                                .key_pin = "sha256//PIN=",
                                                .code = "K7QXM-AAAAA"});
  REQUIRE(line);
  CHECK(line->find("--pinnedpubkey 'sha256//PIN='") != std::string::npos);
  CHECK(line->find("--proto =https") != std::string::npos);
  CHECK(line->find("sha256sum -c") != std::string::npos);
  CHECK(line->find("echo 'K7QXM-AAAAA' | $s sh \"$f\"") != std::string::npos);
  CHECK(line->find("RMM_CODE") == std::string::npos);
}

// What the https line relies on: with -k curl skips the CA check (the new machine has not got
// the CA yet) but still refuses a server whose key is not the pinned one.
TEST_CASE("install: curl -k still refuses a server whose key is not the pinned one") {
  if (run_shell("command -v curl && command -v openssl").exit_code != 0) {
    FAIL("this test needs curl and openssl");
  }
  TempDir dir("pin-curl");
  auto tls = make_tls_files(dir / "tls");
  auto other = make_tls_files(dir / "other");
  const int port = free_tcp_port();
  auto server =
      Process::start({.program = "openssl",
                      .args = {"s_server", "-accept", fmt::format("127.0.0.1:{}", port), "-cert",
                               tls.cert.string(), "-key", tls.key.string(), "-www"},
                      .log_file = dir / "s_server.log"});
  auto curl = [&](const std::string& pin) {
    return run_shell(fmt::format(
        "curl -sSk --max-time 10 --pinnedpubkey '{}' -o /dev/null https://127.0.0.1:{}/ 2>&1", pin,
        port));
  };
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (run_shell(fmt::format("curl -sk -o /dev/null https://127.0.0.1:{}/", port)).exit_code !=
             0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  auto wrong = curl(other.pin);
  CHECK(wrong.exit_code == 90);  // CURLE_SSL_PINNEDPUBKEYNOTMATCH
  auto right = curl(tls.pin);
  CHECK_MESSAGE(right.exit_code == 0, right.output);
  server.terminate();
}

}  // namespace rmm::test
