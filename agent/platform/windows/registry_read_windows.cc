#include "agent/platform/windows/registry_read_windows.h"

#include <utility>

namespace rmm::agent::platform {
namespace {

constexpr DWORD kMaxValueBytes = 64 * 1024;

Error registry_error(std::wstring_view what, LSTATUS status) {
  Error e = rmm::win::win32_error(rmm::win::to_utf8(what), static_cast<std::uint32_t>(status));
  if (status == ERROR_FILE_NOT_FOUND) e.code = Error::Code::kNotFound;
  return e;
}

// Registry APIs take NUL-terminated names; the views passed in need not be.
std::wstring terminated(std::wstring_view s) {
  return std::wstring(s);
}

}  // namespace

Result<RegistryKey> RegistryKey::open(HKEY root, std::wstring_view path, REGSAM view) {
  HKEY key = nullptr;
  const LSTATUS status = ::RegOpenKeyExW(root, terminated(path).c_str(), 0, KEY_READ | view, &key);
  if (status != ERROR_SUCCESS) return std::unexpected(registry_error(path, status));
  return RegistryKey(key, view);
}

RegistryKey::RegistryKey(RegistryKey&& other) noexcept
    : key_(std::exchange(other.key_, nullptr)), view_(other.view_) {}

RegistryKey& RegistryKey::operator=(RegistryKey&& other) noexcept {
  if (this != &other) {
    if (key_ != nullptr) ::RegCloseKey(key_);
    key_ = std::exchange(other.key_, nullptr);
    view_ = other.view_;
  }
  return *this;
}

RegistryKey::~RegistryKey() {
  if (key_ != nullptr) ::RegCloseKey(key_);
}

Result<std::string> RegistryKey::string(std::wstring_view name) const {
  const std::wstring value_name = terminated(name);
  DWORD type = 0;
  DWORD bytes = 0;
  LSTATUS status = ::RegQueryValueExW(key_, value_name.c_str(), nullptr, &type, nullptr, &bytes);
  if (status != ERROR_SUCCESS) return std::unexpected(registry_error(name, status));
  if (type != REG_SZ && type != REG_EXPAND_SZ) {
    return fail(Error::Code::kInvalidInput, rmm::win::to_utf8(name) + " is not a string value");
  }
  if (bytes > kMaxValueBytes) return fail(rmm::win::to_utf8(name) + " is larger than 64 KiB");
  // The value may change between the two calls; a second size error is reported, not retried.
  std::wstring text(bytes / sizeof(wchar_t) + 1, L'\0');
  bytes = static_cast<DWORD>(text.size() * sizeof(wchar_t));
  status = ::RegQueryValueExW(key_, value_name.c_str(), nullptr, &type,
                              reinterpret_cast<BYTE*>(text.data()), &bytes);
  if (status != ERROR_SUCCESS) return std::unexpected(registry_error(name, status));
  // Stored strings need not be NUL-terminated, and may hold more than one terminator.
  text.resize(bytes / sizeof(wchar_t));
  const auto end = text.find(L'\0');
  if (end != std::wstring::npos) text.resize(end);
  return rmm::win::to_utf8(text);
}

Result<std::uint64_t> RegistryKey::number(std::wstring_view name) const {
  const std::wstring value_name = terminated(name);
  DWORD type = 0;
  std::uint64_t value = 0;
  DWORD bytes = sizeof value;
  const LSTATUS status = ::RegQueryValueExW(key_, value_name.c_str(), nullptr, &type,
                                            reinterpret_cast<BYTE*>(&value), &bytes);
  if (status != ERROR_SUCCESS) return std::unexpected(registry_error(name, status));
  if (type == REG_DWORD && bytes == sizeof(DWORD)) return static_cast<std::uint32_t>(value);
  if (type == REG_QWORD && bytes == sizeof(std::uint64_t)) return value;
  return fail(Error::Code::kInvalidInput, rmm::win::to_utf8(name) + " is not a number value");
}

Result<std::vector<std::wstring>> RegistryKey::subkeys() const {
  std::vector<std::wstring> names;
  // Key names are at most 255 characters.
  wchar_t buffer[256];
  for (DWORD index = 0;; ++index) {
    DWORD length = static_cast<DWORD>(std::size(buffer));
    const LSTATUS status =
        ::RegEnumKeyExW(key_, index, buffer, &length, nullptr, nullptr, nullptr, nullptr);
    if (status == ERROR_NO_MORE_ITEMS) break;
    if (status != ERROR_SUCCESS) return std::unexpected(registry_error(L"RegEnumKeyExW", status));
    names.emplace_back(buffer, length);
  }
  return names;
}

Result<RegistryKey> RegistryKey::child(std::wstring_view name) const {
  return open(key_, name, view_);
}

Result<std::string> read_machine_string(std::wstring_view path, std::wstring_view name) {
  auto key = RegistryKey::open(HKEY_LOCAL_MACHINE, path, KEY_WOW64_64KEY);
  if (!key) return std::unexpected(key.error());
  return key->string(name);
}

}  // namespace rmm::agent::platform
