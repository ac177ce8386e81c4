// Hive names, the same on every platform (a request names them before it reaches Windows): the
// names of the registry command (common/registry_spec.h), so the API, the command and the
// platform layer spell them alike.
#include <iterator>

#include "agent/platform/registry.h"
#include "common/registry_spec.h"

namespace rmm::agent::platform {
namespace {

// In the order of both enums.
constexpr RegistryHive kHives[] = {RegistryHive::kLocalMachine, RegistryHive::kCurrentUser,
                                   RegistryHive::kUsers, RegistryHive::kClassesRoot,
                                   RegistryHive::kCurrentConfig};
static_assert(std::size(kHives) == static_cast<std::size_t>(schema::RegistryHive::MAX) + 1);

}  // namespace

Result<RegistryHive> parse_registry_hive(std::string_view name) {
  auto hive = codec::parse_registry_hive(name);
  if (!hive) {
    return fail(Error::Code::kInvalidInput,
                fmt::format("'{}' is not a registry hive (HKLM, HKCU, HKU, HKCR, HKCC)", name));
  }
  return kHives[static_cast<std::size_t>(*hive)];
}

std::string_view registry_hive_name(RegistryHive hive) {
  for (std::size_t i = 0; i < std::size(kHives); ++i) {
    if (kHives[i] == hive) return codec::registry_hive_name(static_cast<schema::RegistryHive>(i));
  }
  return "?";
}

}  // namespace rmm::agent::platform
