// The registry editor's command (RegistryCommand in schemas/commands.fbs) as plain values, the
// names its operations, hives and value types have in the API and in the agent's JSON answers,
// and the checks the API (400) and the agent (rejected) both apply before anything reaches
// Windows. The agent runs it with agent/platform/registry.h (agent/commands/registry_action.h).
//
// Concurrency: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "commands_generated.h"
#include "common/result.h"

namespace rmm::codec {

inline constexpr std::size_t kMaxRegistryKeyBytes = 4096;
inline constexpr std::size_t kMaxRegistryKeyPartBytes = 255 * 3;  // 255 UTF-16 units
inline constexpr std::size_t kMaxRegistryNameBytes = 16383;
// Text, strings and bytes of one value together; Microsoft advises values far smaller.
inline constexpr std::size_t kMaxRegistryDataBytes = 512 * 1024;
inline constexpr std::size_t kMaxRegistryStrings = 10000;

struct RegistryValueSpec {
  schema::RegistryValueType type = schema::RegistryValueType::String;
  std::string text;                  // String, ExpandString (UTF-8)
  std::vector<std::string> strings;  // MultiString (none empty)
  std::uint64_t number = 0;          // Dword (at most 0xFFFFFFFF), Qword
  std::vector<std::uint8_t> bytes;   // Binary, Other
  std::uint32_t raw_type = 0;        // Other: the REG_* number
  bool operator==(const RegistryValueSpec&) const = default;
};

struct RegistrySpec {
  schema::RegistryOperation op = schema::RegistryOperation::List;
  schema::RegistryHive hive = schema::RegistryHive::HKLM;
  std::string key;          // below the hive, backslash-separated; empty: the hive (list)
  std::string name;         // get, set, delete_value; empty: the key's default value
  RegistryValueSpec value;  // set only
  bool operator==(const RegistrySpec&) const = default;
};

// "list", "get", "set", "delete_value", "create_key", "delete_key".
std::string_view registry_op_name(schema::RegistryOperation op);
Result<schema::RegistryOperation> parse_registry_op(std::string_view name);
// "HKLM", "HKCU", "HKU", "HKCR", "HKCC"; parsing also takes the long names ("HKEY_USERS"), in
// any case.
std::string_view registry_hive_name(schema::RegistryHive hive);
Result<schema::RegistryHive> parse_registry_hive(std::string_view name);
// "string", "expand_string", "multi_string", "dword", "qword", "binary", "other".
std::string_view registry_type_name(schema::RegistryValueType type);
Result<schema::RegistryValueType> parse_registry_type(std::string_view name);

// Whether the enum values are ones this build knows (a newer sender may use more).
bool known_registry_op(schema::RegistryOperation op);
bool known_registry_hive(schema::RegistryHive hive);
bool known_registry_type(schema::RegistryValueType type);

// kInvalidInput, with a message for the user, when the key path has an empty part (a leading,
// trailing or doubled backslash) or is too long, a name is given to an operation on keys, a key
// operation names the hive itself, or the value does not fit its type (a dword above
// 0xFFFFFFFF, an empty string in a multi_string, a NUL in text, data past kMaxRegistryDataBytes).
Status check_registry_spec(const RegistrySpec& spec);

// What the command touches, for summaries and the audit log: "HKLM\Software\X" for key
// operations, "HKLM\Software\X\Name" for value operations ("...\(Default)" for the default value).
std::string registry_target(const RegistrySpec& spec);

}  // namespace rmm::codec
