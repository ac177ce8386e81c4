// Hive names, the same on every platform (a request names them before it reaches Windows).
#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include "agent/platform/registry.h"

namespace rmm::agent::platform {
namespace {

struct HiveName {
  RegistryHive hive;
  std::string_view short_name;
  std::string_view long_name;
};

constexpr std::array kHives = {
    HiveName{RegistryHive::kLocalMachine, "HKLM", "HKEY_LOCAL_MACHINE"},
    HiveName{RegistryHive::kCurrentUser, "HKCU", "HKEY_CURRENT_USER"},
    HiveName{RegistryHive::kUsers, "HKU", "HKEY_USERS"},
    HiveName{RegistryHive::kClassesRoot, "HKCR", "HKEY_CLASSES_ROOT"},
    HiveName{RegistryHive::kCurrentConfig, "HKCC", "HKEY_CURRENT_CONFIG"},
};

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

}  // namespace

Result<RegistryHive> parse_registry_hive(std::string_view name) {
  for (const auto& h : kHives) {
    if (same_ignoring_case(name, h.short_name) || same_ignoring_case(name, h.long_name)) {
      return h.hive;
    }
  }
  return fail(Error::Code::kInvalidInput,
              fmt::format("'{}' is not a registry hive (HKLM, HKCU, HKU, HKCR, HKCC)", name));
}

std::string_view registry_hive_name(RegistryHive hive) {
  for (const auto& h : kHives) {
    if (h.hive == hive) return h.short_name;
  }
  return "?";
}

}  // namespace rmm::agent::platform
