// Registry round trips of every value type under HKCU\Software\GuruRMMTest (a key of its own per
// run), listing, deletion of values and of a key tree, and hive names.
#include "agent/platform/registry.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "common/platform/windows/windows_api.h"

namespace {

namespace platform = rmm::agent::platform;
using platform::RegistryHive;
using platform::RegistryType;
using platform::RegistryValue;

std::string test_key() {
  return fmt::format("Software\\GuruRMMTest\\run-{}", ::GetCurrentProcessId());
}

}  // namespace

TEST_CASE("hive names parse in short and long form, any case") {
  CHECK(platform::parse_registry_hive("HKLM") == RegistryHive::kLocalMachine);
  CHECK(platform::parse_registry_hive("hkey_current_user") == RegistryHive::kCurrentUser);
  CHECK(platform::parse_registry_hive("HKU") == RegistryHive::kUsers);
  CHECK(platform::parse_registry_hive("HKCR") == RegistryHive::kClassesRoot);
  CHECK(platform::parse_registry_hive("HKEY_CURRENT_CONFIG") == RegistryHive::kCurrentConfig);
  auto bad = platform::parse_registry_hive("HKXX");
  REQUIRE(!bad.has_value());
  CHECK(bad.error().code == rmm::Error::Code::kInvalidInput);
  CHECK(platform::registry_hive_name(RegistryHive::kUsers) == "HKU");
}

TEST_CASE("every value type reads back as written, and lists") {
  const auto key = test_key();
  const auto hive = RegistryHive::kCurrentUser;
  REQUIRE(platform::registry_create_key(hive, key + "\\sub\\deeper"));
  const std::vector<std::pair<std::string, RegistryValue>> values = {
      {"", {.type = RegistryType::kString, .text = "the default value"}},
      {"text", {.type = RegistryType::kString, .text = "h\xC3\xA9llo \xE2\x9C\x93"}},
      {"empty text", {.type = RegistryType::kString, .text = ""}},
      {"expand", {.type = RegistryType::kExpandString, .text = "%SystemRoot%\\system32"}},
      {"multi", {.type = RegistryType::kMultiString, .strings = {"one", "tw\xC3\xB6", "three"}}},
      {"multi empty", {.type = RegistryType::kMultiString}},
      {"dword", {.type = RegistryType::kDword, .number = 0xDEADBEEF}},
      {"qword", {.type = RegistryType::kQword, .number = 0x0123456789ABCDEFULL}},
      {"binary", {.type = RegistryType::kBinary, .bytes = {0, 1, 2, 0xFE, 0xFF, 0}}},
      {"empty binary", {.type = RegistryType::kBinary}},
      {"none", {.type = RegistryType::kOther, .bytes = {9, 8, 7}, .raw_type = REG_NONE}},
  };
  for (const auto& [name, value] : values) {
    CAPTURE(name);
    auto set = platform::registry_set(hive, key, name, value);
    REQUIRE_MESSAGE(set.has_value(), (set ? "" : set.error().message));
    auto got = platform::registry_get(hive, key, name);
    REQUIRE_MESSAGE(got.has_value(), (got ? "" : got.error().message));
    CHECK(*got == value);
  }

  auto listing = platform::registry_list(hive, key);
  REQUIRE(listing.has_value());
  CHECK(!listing->truncated);
  CHECK(listing->subkeys == std::vector<std::string>{"sub"});
  CHECK(listing->values.size() == values.size());
  for (const auto& [name, value] : values) {
    CAPTURE(name);
    auto it = std::find_if(listing->values.begin(), listing->values.end(),
                           [&](const auto& v) { return v.name == name; });
    REQUIRE(it != listing->values.end());
    CHECK(it->value == value);
  }

  REQUIRE(platform::registry_delete_value(hive, key, "dword"));
  auto deleted = platform::registry_get(hive, key, "dword");
  REQUIRE(!deleted.has_value());
  CHECK(deleted.error().code == rmm::Error::Code::kNotFound);
  CHECK(platform::registry_delete_value(hive, key, "dword").error().code ==
        rmm::Error::Code::kNotFound);

  REQUIRE(platform::registry_delete_key(hive, key));
  auto gone = platform::registry_list(hive, key);
  REQUIRE(!gone.has_value());
  CHECK(gone.error().code == rmm::Error::Code::kNotFound);
  auto parent = platform::registry_list(hive, "Software\\GuruRMMTest");
  REQUIRE(parent.has_value());
  CHECK(std::find(parent->subkeys.begin(), parent->subkeys.end(),
                  key.substr(key.rfind('\\') + 1)) == parent->subkeys.end());
}

TEST_CASE("values the registry cannot hold are refused before anything is written") {
  const auto key = test_key() + "-refused";
  const auto hive = RegistryHive::kCurrentUser;
  REQUIRE(platform::registry_create_key(hive, key));
  auto big = platform::registry_set(hive, key, "d",
                                    {.type = RegistryType::kDword, .number = 0x100000000ULL});
  REQUIRE(!big.has_value());
  CHECK(big.error().code == rmm::Error::Code::kInvalidInput);
  auto hole = platform::registry_set(
      hive, key, "m", {.type = RegistryType::kMultiString, .strings = {"a", "", "b"}});
  REQUIRE(!hole.has_value());
  CHECK(hole.error().code == rmm::Error::Code::kInvalidInput);
  CHECK(platform::registry_get(hive, key, "d").error().code == rmm::Error::Code::kNotFound);
  CHECK(platform::registry_delete_key(hive, "").error().code == rmm::Error::Code::kInvalidInput);
  CHECK(platform::registry_delete_key(hive, "\\").error().code == rmm::Error::Code::kInvalidInput);
  REQUIRE(platform::registry_delete_key(hive, key));
}

TEST_CASE("a missing key is kNotFound, and the machine hive lists") {
  auto missing = platform::registry_list(RegistryHive::kCurrentUser, "Software\\GuruRMMTest\\none");
  REQUIRE(!missing.has_value());
  CHECK(missing.error().code == rmm::Error::Code::kNotFound);
  auto software = platform::registry_list(RegistryHive::kLocalMachine, "SOFTWARE");
  REQUIRE(software.has_value());
  CHECK(std::any_of(software->subkeys.begin(), software->subkeys.end(),
                    [](const std::string& k) { return k == "Microsoft"; }));
}
