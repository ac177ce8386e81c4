// The registry on Linux: there is none. Every call says so; the hive names still parse, so a
// request is refused for the platform, not for its spelling.
#include "agent/platform/registry.h"

namespace rmm::agent::platform {
namespace {

std::unexpected<Error> no_registry() {
  return fail(Error::Code::kNotSupported,
              "the registry exists on Windows only (this agent runs on Linux)");
}

}  // namespace

Result<RegistryKeyListing> registry_list(RegistryHive, std::string_view) {
  return no_registry();
}
Result<RegistryValue> registry_get(RegistryHive, std::string_view, std::string_view) {
  return no_registry();
}
Status registry_set(RegistryHive, std::string_view, std::string_view, const RegistryValue&) {
  return no_registry();
}
Status registry_delete_value(RegistryHive, std::string_view, std::string_view) {
  return no_registry();
}
Status registry_create_key(RegistryHive, std::string_view) {
  return no_registry();
}
Status registry_delete_key(RegistryHive, std::string_view) {
  return no_registry();
}

}  // namespace rmm::agent::platform
