#include "agent/commands/registry_action.h"

#include <fmt/format.h>

#include <boost/json.hpp>

namespace rmm::agent {
namespace {

using platform::RegistryType;
using platform::RegistryValue;
using schema::RegistryOperation;

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (auto b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xF];
  }
  return out;
}

schema::RegistryValueType spec_type(RegistryType type) {
  switch (type) {
    case RegistryType::kString:
      return schema::RegistryValueType::String;
    case RegistryType::kExpandString:
      return schema::RegistryValueType::ExpandString;
    case RegistryType::kMultiString:
      return schema::RegistryValueType::MultiString;
    case RegistryType::kDword:
      return schema::RegistryValueType::Dword;
    case RegistryType::kQword:
      return schema::RegistryValueType::Qword;
    case RegistryType::kBinary:
      return schema::RegistryValueType::Binary;
    case RegistryType::kOther:
      break;
  }
  return schema::RegistryValueType::Other;
}

// Cut at a UTF-8 character boundary at or below `max` bytes.
std::string utf8_prefix(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

// `value` with its data cut to about kListedDataBytes; true when something was cut.
bool shorten(RegistryValue& value) {
  bool cut = false;
  if (value.text.size() > kListedDataBytes) {
    value.text = utf8_prefix(value.text, kListedDataBytes);
    cut = true;
  }
  if (value.bytes.size() > kListedDataBytes / 2) {
    value.bytes.resize(kListedDataBytes / 2);  // twice as long in hex
    cut = true;
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < value.strings.size(); ++i) {
    total += value.strings[i].size();
    if (total > kListedDataBytes) {
      value.strings.resize(i);
      cut = true;
      break;
    }
  }
  return cut;
}

// "name", "type", "data" (and "raw_type") of one value, into `out`.
void put_value(boost::json::object& out, std::string_view name, const RegistryValue& v) {
  out["name"] = name;
  out["type"] = codec::registry_type_name(spec_type(v.type));
  switch (v.type) {
    case RegistryType::kString:
    case RegistryType::kExpandString:
      out["data"] = v.text;
      break;
    case RegistryType::kMultiString: {
      boost::json::array strings;
      for (const auto& s : v.strings) strings.emplace_back(s);
      out["data"] = std::move(strings);
      break;
    }
    case RegistryType::kDword:
      out["data"] = v.number;
      break;
    case RegistryType::kQword:
      out["data"] = std::to_string(v.number);
      break;
    case RegistryType::kBinary:
      out["data"] = hex(v.bytes);
      break;
    case RegistryType::kOther:
      out["data"] = hex(v.bytes);
      out["raw_type"] = v.raw_type;
      break;
  }
}

boost::json::object head(const codec::RegistrySpec& spec) {
  return {{"hive", codec::registry_hive_name(spec.hive)}, {"key", spec.key}};
}

}  // namespace

platform::RegistryHive to_platform_hive(schema::RegistryHive hive) {
  switch (hive) {
    case schema::RegistryHive::HKLM:
      return platform::RegistryHive::kLocalMachine;
    case schema::RegistryHive::HKCU:
      return platform::RegistryHive::kCurrentUser;
    case schema::RegistryHive::HKU:
      return platform::RegistryHive::kUsers;
    case schema::RegistryHive::HKCR:
      return platform::RegistryHive::kClassesRoot;
    case schema::RegistryHive::HKCC:
      return platform::RegistryHive::kCurrentConfig;
  }
  return platform::RegistryHive::kLocalMachine;  // unknown hives are refused by read_command
}

platform::RegistryValue to_platform_value(const codec::RegistryValueSpec& v) {
  RegistryValue out;
  switch (v.type) {
    case schema::RegistryValueType::String:
      out.type = RegistryType::kString;
      out.text = v.text;
      break;
    case schema::RegistryValueType::ExpandString:
      out.type = RegistryType::kExpandString;
      out.text = v.text;
      break;
    case schema::RegistryValueType::MultiString:
      out.type = RegistryType::kMultiString;
      out.strings = v.strings;
      break;
    case schema::RegistryValueType::Dword:
      out.type = RegistryType::kDword;
      out.number = v.number;
      break;
    case schema::RegistryValueType::Qword:
      out.type = RegistryType::kQword;
      out.number = v.number;
      break;
    case schema::RegistryValueType::Binary:
      out.type = RegistryType::kBinary;
      out.bytes = v.bytes;
      break;
    case schema::RegistryValueType::Other:
      out.type = RegistryType::kOther;
      out.bytes = v.bytes;
      out.raw_type = v.raw_type;
      break;
  }
  return out;
}

std::string registry_listing_json(const codec::RegistrySpec& spec,
                                  const platform::RegistryKeyListing& listing,
                                  std::size_t max_bytes) {
  boost::json::object doc = head(spec);
  doc["subkeys"] = boost::json::array();
  doc["values"] = boost::json::array();
  doc["truncated"] = false;
  // Compact serialization is exact: an array adds one comma per element after the first, so the
  // size is known before anything is added. "true" is one byte shorter than "false".
  std::size_t size = boost::json::serialize(doc).size();
  bool truncated = listing.truncated;
  auto fits = [&](const boost::json::value& item, const boost::json::array& into) {
    const std::size_t more = boost::json::serialize(item).size() + (into.empty() ? 0 : 1);
    if (size + more > max_bytes) return false;
    size += more;
    return true;
  };
  auto& values = doc["values"].as_array();
  for (const auto& named : listing.values) {
    RegistryValue shown = named.value;
    boost::json::object item;
    const bool cut = shorten(shown);
    put_value(item, named.name, shown);
    if (cut) item["data_truncated"] = true;
    boost::json::value v(std::move(item));
    if (!fits(v, values)) {
      truncated = true;
      break;
    }
    values.push_back(std::move(v));
  }
  auto& subkeys = doc["subkeys"].as_array();
  for (const auto& name : listing.subkeys) {
    boost::json::value v(name);
    if (truncated || !fits(v, subkeys)) {
      truncated = true;
      break;
    }
    subkeys.push_back(std::move(v));
  }
  doc["truncated"] = truncated;
  return boost::json::serialize(doc);
}

std::string registry_value_json(const codec::RegistrySpec& spec, const RegistryValue& value) {
  boost::json::object doc = head(spec);
  put_value(doc, spec.name, value);
  return boost::json::serialize(doc);
}

std::string registry_done_json(const codec::RegistrySpec& spec, const RegistryValue* written) {
  boost::json::object doc{{"done", true}, {"operation", codec::registry_op_name(spec.op)}};
  for (const auto& kv : head(spec)) doc[kv.key()] = kv.value();
  if (written != nullptr) {
    put_value(doc, spec.name, *written);
  } else if (spec.op == RegistryOperation::DeleteValue) {
    doc["name"] = spec.name;
  }
  return boost::json::serialize(doc);
}

Result<std::string> run_registry_action(const codec::RegistrySpec& spec,
                                        std::size_t max_output_bytes) {
  if (auto s = codec::check_registry_spec(spec); !s) return std::unexpected(s.error());
  const auto hive = to_platform_hive(spec.hive);
  std::string out;
  switch (spec.op) {
    case RegistryOperation::List: {
      auto listing = platform::registry_list(hive, spec.key);
      if (!listing) return std::unexpected(listing.error());
      return registry_listing_json(spec, *listing, max_output_bytes);
    }
    case RegistryOperation::Get: {
      auto value = platform::registry_get(hive, spec.key, spec.name);
      if (!value) return std::unexpected(value.error());
      out = registry_value_json(spec, *value);
      break;
    }
    case RegistryOperation::Set: {
      if (auto s = platform::registry_set(hive, spec.key, spec.name, to_platform_value(spec.value));
          !s) {
        return std::unexpected(s.error());
      }
      auto value = platform::registry_get(hive, spec.key, spec.name);
      if (!value) {
        return fail(value.error().code,
                    "the value was written but does not read back: " + value.error().message);
      }
      out = registry_done_json(spec, &*value);
      break;
    }
    case RegistryOperation::DeleteValue:
      if (auto s = platform::registry_delete_value(hive, spec.key, spec.name); !s) {
        return std::unexpected(s.error());
      }
      out = registry_done_json(spec, nullptr);
      break;
    case RegistryOperation::CreateKey:
      if (auto s = platform::registry_create_key(hive, spec.key); !s) {
        return std::unexpected(s.error());
      }
      out = registry_done_json(spec, nullptr);
      break;
    case RegistryOperation::DeleteKey:
      if (auto s = platform::registry_delete_key(hive, spec.key); !s) {
        return std::unexpected(s.error());
      }
      out = registry_done_json(spec, nullptr);
      break;
  }
  if (out.empty()) return fail(Error::Code::kInvalidInput, "unknown registry operation");
  if (out.size() > max_output_bytes) {
    return fail(
        Error::Code::kInvalidInput,
        fmt::format("the answer is {} bytes, more than the command's output cap of {} bytes",
                    out.size(), max_output_bytes));
  }
  return out;
}

}  // namespace rmm::agent
