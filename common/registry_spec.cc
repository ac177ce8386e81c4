#include "common/registry_spec.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace rmm::codec {
namespace {

using schema::RegistryHive;
using schema::RegistryOperation;
using schema::RegistryValueType;

// Indexed by the enum's value, in schema order.
constexpr std::array<std::string_view, 6> kOps = {"list",         "get",        "set",
                                                  "delete_value", "create_key", "delete_key"};
constexpr std::array<std::string_view, 5> kHives = {"HKLM", "HKCU", "HKU", "HKCR", "HKCC"};
constexpr std::array<std::string_view, 5> kLongHives = {"HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER",
                                                        "HKEY_USERS", "HKEY_CLASSES_ROOT",
                                                        "HKEY_CURRENT_CONFIG"};
constexpr std::array<std::string_view, 7> kTypes = {
    "string", "expand_string", "multi_string", "dword", "qword", "binary", "other"};
static_assert(kOps.size() == static_cast<std::size_t>(RegistryOperation::MAX) + 1);
static_assert(kHives.size() == static_cast<std::size_t>(RegistryHive::MAX) + 1);
static_assert(kTypes.size() == static_cast<std::size_t>(RegistryValueType::MAX) + 1);

std::unexpected<Error> bad(std::string message) {
  return fail(Error::Code::kInvalidInput, std::move(message));
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

template <std::size_t N>
std::string_view name_at(const std::array<std::string_view, N>& names, std::size_t index) {
  return index < N ? names[index] : std::string_view("unknown");
}

template <std::size_t N>
std::string joined(const std::array<std::string_view, N>& names) {
  std::string out;
  for (auto n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool has_nul(std::string_view s) {
  return s.find('\0') != std::string_view::npos;
}

Status check_key(const RegistrySpec& spec) {
  const std::string_view key = spec.key;
  if (key.size() > kMaxRegistryKeyBytes) {
    return bad(fmt::format("the key path is longer than {} bytes", kMaxRegistryKeyBytes));
  }
  if (has_nul(key)) return bad("the key path contains a NUL character");
  if (key.empty()) {
    if (spec.op == RegistryOperation::CreateKey || spec.op == RegistryOperation::DeleteKey) {
      return bad(fmt::format("{} needs a key below the hive", registry_op_name(spec.op)));
    }
    return {};
  }
  std::size_t start = 0;
  while (true) {
    const auto end = key.find('\\', start);
    const auto part = key.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty()) {
      return bad("the key path has an empty part (a leading, trailing or doubled backslash)");
    }
    if (part.size() > kMaxRegistryKeyPartBytes) {
      return bad("a key name in the path is longer than 255 characters");
    }
    if (end == std::string_view::npos) return {};
    start = end + 1;
  }
}

Status check_value(const RegistryValueSpec& v) {
  if (!known_registry_type(v.type)) return bad("unknown registry value type");
  std::size_t size = v.text.size() + v.bytes.size();
  for (const auto& s : v.strings) size += s.size() + 1;
  if (size > kMaxRegistryDataBytes) {
    return bad(fmt::format("the value's data is larger than {} bytes", kMaxRegistryDataBytes));
  }
  switch (v.type) {
    case RegistryValueType::String:
    case RegistryValueType::ExpandString:
      if (has_nul(v.text)) return bad("a string value cannot contain a NUL character");
      break;
    case RegistryValueType::MultiString:
      if (v.strings.size() > kMaxRegistryStrings) {
        return bad(fmt::format("a multi_string holds at most {} strings", kMaxRegistryStrings));
      }
      for (const auto& s : v.strings) {
        // Windows ends the list at the first empty string.
        if (s.empty()) return bad("a multi_string cannot hold an empty string");
        if (has_nul(s)) return bad("a multi_string cannot contain a NUL character");
      }
      break;
    case RegistryValueType::Dword:
      if (v.number > 0xFFFFFFFFULL) return bad("a dword is at most 4294967295");
      break;
    case RegistryValueType::Qword:
    case RegistryValueType::Binary:
    case RegistryValueType::Other:
      break;
  }
  return {};
}

}  // namespace

std::string_view registry_op_name(RegistryOperation op) {
  return name_at(kOps, static_cast<std::size_t>(op));
}

Result<RegistryOperation> parse_registry_op(std::string_view name) {
  for (std::size_t i = 0; i < kOps.size(); ++i) {
    if (name == kOps[i]) return static_cast<RegistryOperation>(i);
  }
  return bad(fmt::format("the registry operation must be one of {}", joined(kOps)));
}

std::string_view registry_hive_name(RegistryHive hive) {
  return name_at(kHives, static_cast<std::size_t>(hive));
}

Result<RegistryHive> parse_registry_hive(std::string_view name) {
  for (std::size_t i = 0; i < kHives.size(); ++i) {
    if (same_ignoring_case(name, kHives[i]) || same_ignoring_case(name, kLongHives[i])) {
      return static_cast<RegistryHive>(i);
    }
  }
  return bad(fmt::format("the registry hive must be one of {} (or its long name)", joined(kHives)));
}

std::string_view registry_type_name(RegistryValueType type) {
  return name_at(kTypes, static_cast<std::size_t>(type));
}

Result<RegistryValueType> parse_registry_type(std::string_view name) {
  for (std::size_t i = 0; i < kTypes.size(); ++i) {
    if (name == kTypes[i]) return static_cast<RegistryValueType>(i);
  }
  return bad(fmt::format("the registry value type must be one of {}", joined(kTypes)));
}

bool known_registry_op(RegistryOperation op) {
  return static_cast<std::size_t>(op) < kOps.size();
}
bool known_registry_hive(RegistryHive hive) {
  return static_cast<std::size_t>(hive) < kHives.size();
}
bool known_registry_type(RegistryValueType type) {
  return static_cast<std::size_t>(type) < kTypes.size();
}

Status check_registry_spec(const RegistrySpec& spec) {
  if (!known_registry_op(spec.op)) return bad("unknown registry operation");
  if (!known_registry_hive(spec.hive)) return bad("unknown registry hive");
  if (auto s = check_key(spec); !s) return s;
  const bool on_value = spec.op == RegistryOperation::Get || spec.op == RegistryOperation::Set ||
                        spec.op == RegistryOperation::DeleteValue;
  if (!on_value && !spec.name.empty()) {
    return bad(fmt::format("a value name does not apply to {}", registry_op_name(spec.op)));
  }
  if (spec.name.size() > kMaxRegistryNameBytes) {
    return bad(fmt::format("the value name is longer than {} bytes", kMaxRegistryNameBytes));
  }
  if (has_nul(spec.name)) return bad("the value name contains a NUL character");
  if (spec.op == RegistryOperation::Set) return check_value(spec.value);
  return {};
}

std::string registry_target(const RegistrySpec& spec) {
  std::string out(registry_hive_name(spec.hive));
  if (!spec.key.empty()) out += "\\" + spec.key;
  const bool on_value = spec.op == RegistryOperation::Get || spec.op == RegistryOperation::Set ||
                        spec.op == RegistryOperation::DeleteValue;
  if (on_value) out += "\\" + (spec.name.empty() ? std::string("(Default)") : spec.name);
  return out;
}

}  // namespace rmm::codec
