// The Windows registry, as the registry editor's built-in actions need it: list a key's subkeys
// and values, read, write and delete a value, create a key, delete a key with everything under
// it. Keys are named by a hive (HKLM, HKCU, HKU, HKCR, HKCC, or their long names) and a path below
// it; the 64-bit view is used, as a 64-bit agent sees the machine. Values travel as a tagged
// struct, so a value of any type reads back as it was written. Implemented per platform (CMake
// picks the file); the registry exists on Windows only, elsewhere every call is kNotSupported.
//
// Concurrency: thread-safe (every call opens and closes its own key handles).
// Limitations: a key is listed up to kMaxRegistryEntries subkeys and values (the listing says
// when it stopped); HKCU is the agent's own account's (the service's: SYSTEM), not a logged-on
// user's (their hives are under HKU\<SID>).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::agent::platform {

enum class RegistryHive { kLocalMachine, kCurrentUser, kUsers, kClassesRoot, kCurrentConfig };

// "HKLM" or "HKEY_LOCAL_MACHINE" (any case) and so on; kInvalidInput for anything else.
Result<RegistryHive> parse_registry_hive(std::string_view name);
std::string_view registry_hive_name(RegistryHive hive);  // the short name, "HKLM"

enum class RegistryType {
  kString,        // REG_SZ: text
  kExpandString,  // REG_EXPAND_SZ: text with %VARIABLES%, stored unexpanded
  kMultiString,   // REG_MULTI_SZ: strings
  kDword,         // REG_DWORD: number (32 bits)
  kQword,         // REG_QWORD: number
  kBinary,        // REG_BINARY: bytes
  kOther,         // any other type (REG_NONE, REG_LINK, resource lists...): raw_type and bytes
};

struct RegistryValue {
  RegistryType type = RegistryType::kString;
  std::string text;                  // kString, kExpandString (UTF-8)
  std::vector<std::string> strings;  // kMultiString (none may be empty: Windows ends the list)
  std::uint64_t number = 0;          // kDword (at most 0xFFFFFFFF), kQword
  std::vector<std::uint8_t> bytes;   // kBinary, kOther
  std::uint32_t raw_type = 0;        // kOther: the REG_* number
  bool operator==(const RegistryValue&) const = default;
};

struct NamedRegistryValue {
  std::string name;  // empty: the key's default value
  RegistryValue value;
};

struct RegistryKeyListing {
  std::vector<std::string> subkeys;
  std::vector<NamedRegistryValue> values;
  bool truncated = false;  // more than kMaxRegistryEntries entries of one kind
};

inline constexpr std::size_t kMaxRegistryEntries = 10000;

// `key` is the path below the hive ("Software\\Vendor"), backslash-separated; empty names the
// hive itself (list only). kNotFound when the key or value does not exist.
Result<RegistryKeyListing> registry_list(RegistryHive hive, std::string_view key);
Result<RegistryValue> registry_get(RegistryHive hive, std::string_view key, std::string_view name);
// Writes the value, creating or replacing it; the key must exist (see registry_create_key).
Status registry_set(RegistryHive hive, std::string_view key, std::string_view name,
                    const RegistryValue& value);
Status registry_delete_value(RegistryHive hive, std::string_view key, std::string_view name);
// Creates the key and any missing key above it; an existing key is left as it is.
Status registry_create_key(RegistryHive hive, std::string_view key);
// Deletes the key, its values and every key below it. Refuses a hive itself (empty `key`).
Status registry_delete_key(RegistryHive hive, std::string_view key);

}  // namespace rmm::agent::platform
