// The registry through the Win32 API (advapi32), always in the 64-bit view (KEY_WOW64_64KEY).
// Names and text are UTF-16 in the registry and UTF-8 here, converted once in this file.
#include <cstring>

#include "agent/platform/registry.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::agent::platform {
namespace {

HKEY root_of(RegistryHive hive) {
  switch (hive) {
    case RegistryHive::kLocalMachine:
      return HKEY_LOCAL_MACHINE;
    case RegistryHive::kCurrentUser:
      return HKEY_CURRENT_USER;
    case RegistryHive::kUsers:
      return HKEY_USERS;
    case RegistryHive::kClassesRoot:
      return HKEY_CLASSES_ROOT;
    case RegistryHive::kCurrentConfig:
      return HKEY_CURRENT_CONFIG;
  }
  return HKEY_LOCAL_MACHINE;
}

std::string describe(RegistryHive hive, std::string_view key) {
  return key.empty() ? std::string(registry_hive_name(hive))
                     : fmt::format("{}\\{}", registry_hive_name(hive), key);
}

Error registry_error(LSTATUS status, std::string_view what) {
  auto error = rmm::win::win32_error(what, static_cast<std::uint32_t>(status));
  if (status == ERROR_FILE_NOT_FOUND || status == ERROR_PATH_NOT_FOUND) {
    error.code = Error::Code::kNotFound;
  }
  return error;
}

class Key {
 public:
  ~Key() {
    if (key_ != nullptr) ::RegCloseKey(key_);
  }
  HKEY* out() { return &key_; }
  HKEY get() const { return key_; }

 private:
  HKEY key_ = nullptr;
};

Result<std::wstring> wide(std::string_view text) {
  if (text.find('\0') != std::string_view::npos) {
    return fail(Error::Code::kInvalidInput, "registry names and text cannot hold NUL");
  }
  return rmm::win::to_wide(text);
}

Status open_key(RegistryHive hive, std::string_view key, REGSAM access, Key& out) {
  auto path = wide(key);
  if (!path) return std::unexpected(path.error());
  const LSTATUS status =
      ::RegOpenKeyExW(root_of(hive), path->c_str(), 0, access | KEY_WOW64_64KEY, out.out());
  if (status != ERROR_SUCCESS) {
    return std::unexpected(registry_error(status, fmt::format("opening {}", describe(hive, key))));
  }
  return {};
}

std::wstring without_trailing_nuls(const wchar_t* data, std::size_t chars) {
  while (chars > 0 && data[chars - 1] == L'\0') --chars;
  return std::wstring(data, chars);
}

RegistryValue decode(DWORD type, const std::vector<std::uint8_t>& data) {
  RegistryValue v;
  const auto* chars = reinterpret_cast<const wchar_t*>(data.data());
  const std::size_t n_chars = data.size() / sizeof(wchar_t);
  switch (type) {
    case REG_SZ:
    case REG_EXPAND_SZ:
      v.type = type == REG_SZ ? RegistryType::kString : RegistryType::kExpandString;
      v.text = rmm::win::to_utf8(without_trailing_nuls(chars, n_chars));
      return v;
    case REG_MULTI_SZ: {
      v.type = RegistryType::kMultiString;
      std::size_t start = 0;
      for (std::size_t i = 0; i <= n_chars; ++i) {
        if (i == n_chars || chars[i] == L'\0') {
          if (i == start) break;  // the empty string that ends the list
          v.strings.push_back(rmm::win::to_utf8(std::wstring_view(chars + start, i - start)));
          start = i + 1;
        }
      }
      return v;
    }
    case REG_DWORD:
    case REG_QWORD:
      if (data.size() == (type == REG_DWORD ? 4U : 8U)) {
        v.type = type == REG_DWORD ? RegistryType::kDword : RegistryType::kQword;
        std::memcpy(&v.number, data.data(), data.size());  // little-endian, as x86-64
        return v;
      }
      break;  // a malformed number: shown as raw bytes
    case REG_BINARY:
      v.type = RegistryType::kBinary;
      v.bytes = data;
      return v;
    default:
      break;
  }
  v.type = RegistryType::kOther;
  v.raw_type = type;
  v.bytes = data;
  return v;
}

struct Encoded {
  DWORD type = REG_NONE;
  std::vector<std::uint8_t> data;
};

void append_wide(std::vector<std::uint8_t>& data, const std::wstring& text) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(text.c_str());
  data.insert(data.end(), p, p + (text.size() + 1) * sizeof(wchar_t));  // with its NUL
}

Result<Encoded> encode(const RegistryValue& v) {
  Encoded e;
  switch (v.type) {
    case RegistryType::kString:
    case RegistryType::kExpandString: {
      auto text = wide(v.text);
      if (!text) return std::unexpected(text.error());
      e.type = v.type == RegistryType::kString ? REG_SZ : REG_EXPAND_SZ;
      append_wide(e.data, *text);
      return e;
    }
    case RegistryType::kMultiString:
      e.type = REG_MULTI_SZ;
      for (const auto& s : v.strings) {
        if (s.empty()) {
          return fail(Error::Code::kInvalidInput,
                      "a multi-string value cannot hold an empty string");
        }
        auto text = wide(s);
        if (!text) return std::unexpected(text.error());
        append_wide(e.data, *text);
      }
      e.data.push_back(0);  // the empty string that ends the list
      e.data.push_back(0);
      if (v.strings.empty()) e.data.assign(4, 0);  // an empty list: two NULs, as regedit writes it
      return e;
    case RegistryType::kDword:
      if (v.number > 0xFFFFFFFFULL) {
        return fail(Error::Code::kInvalidInput, fmt::format("{} does not fit a DWORD", v.number));
      }
      e.type = REG_DWORD;
      e.data.resize(4);
      std::memcpy(e.data.data(), &v.number, 4);
      return e;
    case RegistryType::kQword:
      e.type = REG_QWORD;
      e.data.resize(8);
      std::memcpy(e.data.data(), &v.number, 8);
      return e;
    case RegistryType::kBinary:
      e.type = REG_BINARY;
      e.data = v.bytes;
      return e;
    case RegistryType::kOther:
      e.type = v.raw_type;
      e.data = v.bytes;
      return e;
  }
  return fail(Error::Code::kInvalidInput, "unknown registry value type");
}

// One value's type and data, growing the buffer while the value grows under us.
Result<RegistryValue> query(HKEY key, const std::wstring& name, std::string_view what) {
  std::vector<std::uint8_t> data(256);
  while (true) {
    DWORD type = REG_NONE;
    auto size = static_cast<DWORD>(data.size());
    const LSTATUS status =
        ::RegQueryValueExW(key, name.c_str(), nullptr, &type, data.data(), &size);
    if (status == ERROR_MORE_DATA) {
      data.resize(size);
      continue;
    }
    if (status != ERROR_SUCCESS) return std::unexpected(registry_error(status, what));
    data.resize(size);
    return decode(type, data);
  }
}

}  // namespace

Result<RegistryKeyListing> registry_list(RegistryHive hive, std::string_view key) {
  Key k;
  if (auto s = open_key(hive, key, KEY_READ, k); !s) return std::unexpected(s.error());
  DWORD subkeys = 0, max_subkey = 0, values = 0, max_name = 0;
  LSTATUS status = ::RegQueryInfoKeyW(k.get(), nullptr, nullptr, nullptr, &subkeys, &max_subkey,
                                      nullptr, &values, &max_name, nullptr, nullptr, nullptr);
  if (status != ERROR_SUCCESS) {
    return std::unexpected(registry_error(status, fmt::format("reading {}", describe(hive, key))));
  }
  RegistryKeyListing listing;
  // Names are at most 255 (keys) and 16383 (values) characters; the buffers take the longest.
  std::wstring name(std::max<DWORD>(max_subkey, 255) + 1, L'\0');
  for (DWORD i = 0;; ++i) {
    if (listing.subkeys.size() == kMaxRegistryEntries) {
      listing.truncated = true;
      break;
    }
    auto length = static_cast<DWORD>(name.size());
    status = ::RegEnumKeyExW(k.get(), i, name.data(), &length, nullptr, nullptr, nullptr, nullptr);
    if (status == ERROR_NO_MORE_ITEMS) break;
    if (status != ERROR_SUCCESS) {
      return std::unexpected(
          registry_error(status, fmt::format("listing {}", describe(hive, key))));
    }
    listing.subkeys.push_back(rmm::win::to_utf8(std::wstring_view(name.data(), length)));
  }
  name.assign(std::max<DWORD>(max_name, 16383) + 1, L'\0');
  for (DWORD i = 0;; ++i) {
    if (listing.values.size() == kMaxRegistryEntries) {
      listing.truncated = true;
      break;
    }
    auto length = static_cast<DWORD>(name.size());
    status = ::RegEnumValueW(k.get(), i, name.data(), &length, nullptr, nullptr, nullptr, nullptr);
    if (status == ERROR_NO_MORE_ITEMS) break;
    if (status != ERROR_SUCCESS) {
      return std::unexpected(
          registry_error(status, fmt::format("listing {}", describe(hive, key))));
    }
    std::wstring value_name(name.data(), length);
    auto value = query(k.get(), value_name, describe(hive, key));
    if (!value) {
      if (value.error().code == Error::Code::kNotFound) continue;  // deleted meanwhile
      return std::unexpected(value.error());
    }
    listing.values.push_back({rmm::win::to_utf8(value_name), std::move(*value)});
  }
  return listing;
}

Result<RegistryValue> registry_get(RegistryHive hive, std::string_view key, std::string_view name) {
  Key k;
  if (auto s = open_key(hive, key, KEY_QUERY_VALUE, k); !s) return std::unexpected(s.error());
  auto value_name = wide(name);
  if (!value_name) return std::unexpected(value_name.error());
  return query(k.get(), *value_name, fmt::format("reading {} in {}", name, describe(hive, key)));
}

Status registry_set(RegistryHive hive, std::string_view key, std::string_view name,
                    const RegistryValue& value) {
  auto encoded = encode(value);
  if (!encoded) return std::unexpected(encoded.error());
  auto value_name = wide(name);
  if (!value_name) return std::unexpected(value_name.error());
  Key k;
  if (auto s = open_key(hive, key, KEY_SET_VALUE, k); !s) return std::unexpected(s.error());
  const LSTATUS status =
      ::RegSetValueExW(k.get(), value_name->c_str(), 0, encoded->type, encoded->data.data(),
                       static_cast<DWORD>(encoded->data.size()));
  if (status != ERROR_SUCCESS) {
    return std::unexpected(
        registry_error(status, fmt::format("writing {} in {}", name, describe(hive, key))));
  }
  return {};
}

Status registry_delete_value(RegistryHive hive, std::string_view key, std::string_view name) {
  auto value_name = wide(name);
  if (!value_name) return std::unexpected(value_name.error());
  Key k;
  if (auto s = open_key(hive, key, KEY_SET_VALUE, k); !s) return std::unexpected(s.error());
  const LSTATUS status = ::RegDeleteValueW(k.get(), value_name->c_str());
  if (status != ERROR_SUCCESS) {
    return std::unexpected(
        registry_error(status, fmt::format("deleting {} in {}", name, describe(hive, key))));
  }
  return {};
}

Status registry_create_key(RegistryHive hive, std::string_view key) {
  if (key.empty()) return fail(Error::Code::kInvalidInput, "no key to create");
  auto path = wide(key);
  if (!path) return std::unexpected(path.error());
  Key k;
  const LSTATUS status =
      ::RegCreateKeyExW(root_of(hive), path->c_str(), 0, nullptr, REG_OPTION_NON_VOLATILE,
                        KEY_WRITE | KEY_WOW64_64KEY, nullptr, k.out(), nullptr);
  if (status != ERROR_SUCCESS) {
    return std::unexpected(registry_error(status, fmt::format("creating {}", describe(hive, key))));
  }
  return {};
}

Status registry_delete_key(RegistryHive hive, std::string_view key) {
  std::string_view trimmed = key;
  while (!trimmed.empty() && trimmed.back() == '\\') trimmed.remove_suffix(1);
  while (!trimmed.empty() && trimmed.front() == '\\') trimmed.remove_prefix(1);
  if (trimmed.empty()) return fail(Error::Code::kInvalidInput, "refusing to delete a whole hive");
  auto path = wide(trimmed);
  if (!path) return std::unexpected(path.error());
  {
    // Empty it first: RegDeleteKeyExW only deletes a key without subkeys.
    Key k;
    if (auto s = open_key(hive, trimmed,
                          DELETE | KEY_ENUMERATE_SUB_KEYS | KEY_QUERY_VALUE | KEY_SET_VALUE, k);
        !s) {
      return std::unexpected(s.error());
    }
    const LSTATUS status = ::RegDeleteTreeW(k.get(), nullptr);
    if (status != ERROR_SUCCESS) {
      return std::unexpected(
          registry_error(status, fmt::format("emptying {}", describe(hive, trimmed))));
    }
  }
  const LSTATUS status = ::RegDeleteKeyExW(root_of(hive), path->c_str(), KEY_WOW64_64KEY, 0);
  if (status != ERROR_SUCCESS) {
    return std::unexpected(
        registry_error(status, fmt::format("deleting {}", describe(hive, trimmed))));
  }
  return {};
}

}  // namespace rmm::agent::platform
