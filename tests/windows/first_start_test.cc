// The site settings the MSI leaves in HKLM\SOFTWARE\GuruRMM\Agent, read back as the agent reads
// them at its first start, and what that start does with them short of a broker (the enrollment
// itself runs against a real stack in tests/windows/e2e).
#include "agent/enroll/first_start.h"

#include <doctest/doctest.h>

#include <filesystem>

#include "agent/enroll/site_settings.h"
#include "agent/platform/registry.h"
#include "common/files.h"
#include "tests/windows/win_test_support.h"

namespace {

namespace fs = std::filesystem;
namespace enroll = rmm::agent::enroll;
namespace platform = rmm::agent::platform;
using platform::RegistryHive;
using platform::RegistryType;

const std::string kKey(enroll::kSiteSettingsKey);

void set_text(std::string_view name, std::string text, RegistryType type = RegistryType::kString) {
  REQUIRE(platform::registry_create_key(RegistryHive::kLocalMachine, kKey));
  auto s = platform::registry_set(RegistryHive::kLocalMachine, kKey, name,
                                  {.type = type, .text = std::move(text)});
  REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().message));
}

// Each case starts without the key (the prefix is the test program's own).
void clear_key() {
  auto s = platform::registry_delete_key(RegistryHive::kLocalMachine, kKey);
  REQUIRE((s.has_value() || s.error().code == rmm::Error::Code::kNotFound));
}

bool has_value(std::string_view name) {
  return platform::registry_get(RegistryHive::kLocalMachine, kKey, name).has_value();
}

}  // namespace

TEST_CASE("site settings: none without the key, every value as the MSI writes it otherwise") {
  clear_key();
  auto none = enroll::read_site_settings();
  REQUIRE(none.has_value());
  CHECK_FALSE(none->has_value());

  const std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  set_text("ServerUrl", " tls://rmm.example.net:4222 ");
  set_text("EnrollCode", "K7QXM-2RW4T\r\n");
  set_text("CaFile", "C:\\certs\\ca.pem", RegistryType::kExpandString);
  set_text("CaPem", pem);
  set_text("EnrollCreds", "-----BEGIN NATS USER JWT-----\nx\n");
  auto read = enroll::read_site_settings();
  REQUIRE_MESSAGE(read.has_value(), (read ? "" : read.error().message));
  REQUIRE(read->has_value());
  const auto& s = **read;
  CHECK(s.server_url == "tls://rmm.example.net:4222");
  CHECK(s.enroll_code == "K7QXM-2RW4T");
  CHECK(s.ca_file == "C:\\certs\\ca.pem");
  CHECK(s.ca_pem == pem);  // as written: a PEM keeps its line ends
  CHECK(s.enroll_creds == "-----BEGIN NATS USER JWT-----\nx\n");

  REQUIRE(enroll::forget_enrollment_secrets());
  CHECK_FALSE(has_value("EnrollCode"));
  CHECK_FALSE(has_value("EnrollCreds"));
  CHECK(has_value("ServerUrl"));
  CHECK(has_value("CaPem"));
  CHECK(enroll::forget_enrollment_secrets());  // already gone: no error
  auto without_code = enroll::read_site_settings();
  REQUIRE(without_code.has_value());
  REQUIRE(without_code->has_value());
  CHECK((*without_code)->enroll_code.empty());
  CHECK((*without_code)->enroll_creds.empty());
}

TEST_CASE("site settings: a value of another type is refused by name, unless enrolled") {
  clear_key();
  REQUIRE(platform::registry_create_key(RegistryHive::kLocalMachine, kKey));
  REQUIRE(platform::registry_set(RegistryHive::kLocalMachine, kKey, "EnrollCode",
                                 {.type = RegistryType::kDword, .number = 7}));
  auto read = enroll::read_site_settings();
  REQUIRE_FALSE(read.has_value());
  CHECK(read.error().code == rmm::Error::Code::kInvalidInput);
  CHECK(read.error().message.find("EnrollCode") != std::string::npos);

  // The first start stops on it; an enrolled agent starts anyway.
  rmm::wintest::TempDir dir;
  auto refused = enroll::enroll_at_first_start({.state_dir = dir.path()});
  REQUIRE_FALSE(refused.has_value());
  CHECK(refused.error().message.find("EnrollCode") != std::string::npos);
  REQUIRE(
      rmm::files::write_atomic(dir.path() / "agent_id", "0190c5a1-0000-7000-8000-000000000001\n"));
  auto enrolled = enroll::enroll_at_first_start({.state_dir = dir.path()});
  REQUIRE(enrolled.has_value());
  CHECK(*enrolled == enroll::FirstStart::kAlreadyEnrolled);
}

TEST_CASE("first start: nothing to do without a code; an enrolled agent removes secrets left") {
  rmm::wintest::TempDir dir;
  const fs::path state = dir.path() / "state";
  clear_key();
  auto nothing = enroll::enroll_at_first_start({.state_dir = state});
  REQUIRE(nothing.has_value());
  CHECK(*nothing == enroll::FirstStart::kNoSettings);
  CHECK_FALSE(fs::exists(state));

  set_text("ServerUrl", "nats://127.0.0.1:4222");
  auto no_code = enroll::enroll_at_first_start({.state_dir = state});
  REQUIRE(no_code.has_value());
  CHECK(*no_code == enroll::FirstStart::kNoSettings);

  fs::create_directories(state);
  REQUIRE(rmm::files::write_atomic(state / "agent_id", "0190c5a1-0000-7000-8000-000000000001\n"));
  set_text("EnrollCode", "K7QXM-2RW4T");
  set_text("EnrollCreds", "-----BEGIN NATS USER JWT-----\nx\n");
  auto enrolled = enroll::enroll_at_first_start({.state_dir = state});
  REQUIRE(enrolled.has_value());
  CHECK(*enrolled == enroll::FirstStart::kAlreadyEnrolled);
  CHECK_FALSE(has_value("EnrollCode"));
  CHECK_FALSE(has_value("EnrollCreds"));
  CHECK(has_value("ServerUrl"));

  // A credential left without a code (the code went first) goes too.
  set_text("EnrollCreds", "-----BEGIN NATS USER JWT-----\nx\n");
  auto again = enroll::enroll_at_first_start({.state_dir = state});
  REQUIRE(again.has_value());
  CHECK(*again == enroll::FirstStart::kAlreadyEnrolled);
  CHECK_FALSE(has_value("EnrollCreds"));
}

TEST_CASE("first start: a failed enrollment says why, keeps the code and stores no identity") {
  rmm::wintest::TempDir dir;
  const fs::path state = dir.path() / "state";
  clear_key();
  set_text("EnrollCode", "K7QXM-2RW4T");
  // No EnrollCreds and no enroll.creds file: refused before any connection.
  auto no_creds = enroll::enroll_at_first_start({.state_dir = state});
  REQUIRE_FALSE(no_creds.has_value());
  CHECK(no_creds.error().message.find("no enrollment credential") != std::string::npos);

  // A port nothing listens on (loopback: plaintext is allowed there).
  const std::string pem =
      "-----BEGIN CERTIFICATE-----\nnot a real one\n-----END CERTIFICATE-----\n";
  set_text("ServerUrl", "nats://127.0.0.1:1");
  set_text("EnrollCreds", "not a credential\n");
  set_text("CaPem", pem);
  auto failed = enroll::enroll_at_first_start(
      {.state_dir = state, .timeout = std::chrono::milliseconds(2'000)});
  REQUIRE_FALSE(failed.has_value());
  CHECK_MESSAGE(failed.error().message.find("nats://127.0.0.1:1") != std::string::npos,
                failed.error().message);
  CHECK(has_value("EnrollCode"));
  CHECK(has_value("EnrollCreds"));  // kept for the next try
  CHECK_FALSE(fs::exists(state / "agent_id"));
  CHECK(rmm::files::read_all(state / "enroll.creds").value_or("") == "not a credential\n");
  CHECK(rmm::files::read_all(state / "ca.pem").value_or("") == pem);
}
