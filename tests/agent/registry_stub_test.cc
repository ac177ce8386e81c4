// The registry API off Windows: hive names parse everywhere, every operation says the registry
// exists on Windows only (the Windows implementation is tested in tests/windows/).
#include <doctest/doctest.h>

#include "agent/platform/registry.h"

namespace platform = rmm::agent::platform;

TEST_CASE("off Windows the registry is refused as not supported, hives still parse") {
  auto hive = platform::parse_registry_hive("hkey_local_machine");
  REQUIRE(hive.has_value());
  CHECK(*hive == platform::RegistryHive::kLocalMachine);
  CHECK(!platform::parse_registry_hive("HKLM\\Software").has_value());
  auto got = platform::registry_get(*hive, "SOFTWARE\\Microsoft", "x");
  REQUIRE(!got.has_value());
  CHECK(got.error().code == rmm::Error::Code::kNotSupported);
  CHECK(got.error().message.find("Windows only") != std::string::npos);
  CHECK(platform::registry_list(*hive, "").error().code == rmm::Error::Code::kNotSupported);
  CHECK(platform::registry_set(*hive, "k", "v", {}).error().code ==
        rmm::Error::Code::kNotSupported);
  CHECK(platform::registry_delete_key(*hive, "k").error().code == rmm::Error::Code::kNotSupported);
}
