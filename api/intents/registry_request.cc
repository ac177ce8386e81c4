#include "api/intents/registry_request.h"

#include <fmt/format.h>

#include <charconv>
#include <limits>

namespace rmm::api::intents {
namespace {

using schema::RegistryOperation;
using schema::RegistryValueType;

std::unexpected<Error> bad(std::string message) {
  return fail(Error::Code::kInvalidInput, std::move(message));
}

constexpr std::string_view kTypes = "string, expand_string, multi_string, dword, qword or binary";

// A JSON integer, or its decimal digits as a string (JavaScript cannot hold every qword).
Result<std::uint64_t> number_of(const boost::json::value& data, std::uint64_t max,
                                std::string_view type) {
  auto refuse = [&] {
    return bad(
        fmt::format("'value.data' of a {} must be an integer from 0 to {} (a number or a "
                    "string of decimal digits)",
                    type, max));
  };
  std::uint64_t n = 0;
  if (data.is_int64()) {
    if (data.get_int64() < 0) return refuse();
    n = static_cast<std::uint64_t>(data.get_int64());
  } else if (data.is_uint64()) {
    n = data.get_uint64();
  } else if (data.is_string()) {
    std::string_view s = data.get_string();
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789") != std::string_view::npos) {
      return refuse();
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc() || end != s.data() + s.size()) return refuse();
  } else {
    return refuse();
  }
  if (n > max) return refuse();
  return n;
}

Result<std::vector<std::uint8_t>> bytes_of(const boost::json::value& data) {
  constexpr std::string_view kHex = "0123456789abcdefABCDEF";
  if (!data.is_string()) return bad("'value.data' of a binary must be a string of hex digits");
  std::string_view s = data.get_string();
  if (s.size() % 2 != 0 || s.find_first_not_of(kHex) != std::string_view::npos) {
    return bad("'value.data' of a binary must be an even number of hex digits");
  }
  if (s.size() / 2 > codec::kMaxRegistryDataBytes) {
    return bad(fmt::format("'value.data' holds at most {} bytes", codec::kMaxRegistryDataBytes));
  }
  auto digit = [](char c) {
    return static_cast<std::uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  std::vector<std::uint8_t> out;
  out.reserve(s.size() / 2);
  for (std::size_t i = 0; i < s.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(digit(s[i]) << 4 | digit(s[i + 1])));
  }
  return out;
}

}  // namespace

Result<codec::RegistryValueSpec> parse_registry_value(const boost::json::value& value) {
  if (!value.is_object()) return bad("'value' must be an object with 'type' and 'data'");
  const auto& obj = value.get_object();
  for (const auto& kv : obj) {
    if (kv.key() != "type" && kv.key() != "data") {
      return bad("'value' holds only 'type' and 'data'");
    }
  }
  const auto* type_name = obj.if_contains("type");
  if (type_name == nullptr || !type_name->is_string()) {
    return bad(fmt::format("'value.type' must be one of {}", kTypes));
  }
  auto type = codec::parse_registry_type(std::string_view(type_name->get_string()));
  if (!type || *type == RegistryValueType::Other) {
    return bad(fmt::format("'value.type' must be one of {}", kTypes));
  }
  const auto* data = obj.if_contains("data");
  if (data == nullptr || data->is_null()) return bad("'value.data' is required");

  codec::RegistryValueSpec out;
  out.type = *type;
  switch (*type) {
    case RegistryValueType::String:
    case RegistryValueType::ExpandString: {
      if (!data->is_string()) return bad("'value.data' of a string must be a string");
      std::string_view s = data->get_string();
      if (auto st = check_text("value.data", s, codec::kMaxRegistryDataBytes, true); !st) {
        return std::unexpected(st.error());
      }
      out.text = std::string(s);
      break;
    }
    case RegistryValueType::MultiString: {
      if (!data->is_array())
        return bad("'value.data' of a multi_string must be an array of strings");
      const auto& items = data->get_array();
      if (items.size() > codec::kMaxRegistryStrings) {
        return bad(
            fmt::format("'value.data' holds at most {} strings", codec::kMaxRegistryStrings));
      }
      for (const auto& item : items) {
        if (!item.is_string()) {
          return bad("'value.data' of a multi_string must be an array of strings");
        }
        std::string_view s = item.get_string();
        if (auto st = check_text("value.data", s, codec::kMaxRegistryDataBytes, true); !st) {
          return std::unexpected(st.error());
        }
        out.strings.emplace_back(s);
      }
      break;
    }
    case RegistryValueType::Dword: {
      auto n = number_of(*data, 0xFFFFFFFFULL, "dword");
      if (!n) return std::unexpected(n.error());
      out.number = *n;
      break;
    }
    case RegistryValueType::Qword: {
      auto n = number_of(*data, std::numeric_limits<std::uint64_t>::max(), "qword");
      if (!n) return std::unexpected(n.error());
      out.number = *n;
      break;
    }
    case RegistryValueType::Binary: {
      auto bytes = bytes_of(*data);
      if (!bytes) return std::unexpected(bytes.error());
      out.bytes = std::move(*bytes);
      break;
    }
    case RegistryValueType::Other:
      break;  // refused above
  }
  return out;
}

Result<codec::RegistrySpec> parse_registry_request(const Body& body) {
  codec::RegistrySpec spec;
  auto op = body.required_text("op", 32);
  if (!op) return std::unexpected(op.error());
  auto parsed_op = codec::parse_registry_op(*op);
  if (!parsed_op) {
    return bad("'op' must be list, get, set, delete_value, create_key or delete_key");
  }
  spec.op = *parsed_op;
  auto hive = body.required_text("hive", 32);
  if (!hive) return std::unexpected(hive.error());
  auto parsed_hive = codec::parse_registry_hive(*hive);
  if (!parsed_hive) return bad("'hive' must be HKLM, HKCU, HKU, HKCR or HKCC (or its long name)");
  spec.hive = *parsed_hive;
  auto key = body.text("key", codec::kMaxRegistryKeyBytes);
  if (!key) return std::unexpected(key.error());
  spec.key = key->value_or("");

  const bool on_value = spec.op == RegistryOperation::Get || spec.op == RegistryOperation::Set ||
                        spec.op == RegistryOperation::DeleteValue;
  const auto op_name = codec::registry_op_name(spec.op);
  if (on_value) {
    // Required, so that the default value is never edited by leaving the name out.
    if (body.raw("name") == nullptr) {
      return bad(
          fmt::format("'name' is required for {} (\"\" names the key's default value)", op_name));
    }
    auto name = body.text("name", codec::kMaxRegistryNameBytes);
    if (!name) return std::unexpected(name.error());
    spec.name = name->value_or("");
  } else if (body.has("name")) {
    return bad(fmt::format("'name' does not apply to {}", op_name));
  }
  if (spec.op == RegistryOperation::Set) {
    const auto* value = body.raw("value");
    if (value == nullptr) return bad("'value' is required for set");
    auto parsed = parse_registry_value(*value);
    if (!parsed) return std::unexpected(parsed.error());
    spec.value = std::move(*parsed);
  } else if (body.has("value")) {
    return bad(fmt::format("'value' does not apply to {}", op_name));
  }
  if (auto s = codec::check_registry_spec(spec); !s) return std::unexpected(s.error());
  return spec;
}

}  // namespace rmm::api::intents
