// Reading the registry for the collectors: strings and numbers under HKEY_LOCAL_MACHINE, and the
// subkeys of a key. Text comes back as UTF-8; a value that is absent is kNotFound so callers can
// tell "not there" from "could not read".
//
// Limitations: read-only; values larger than 64 KiB are refused (nothing the collectors read is
// near that).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "common/result.h"

namespace rmm::agent::platform {

// An open registry key, closed on destruction.
class RegistryKey {
 public:
  // Opens `path` under `root` for reading. `view` is 0, KEY_WOW64_64KEY or KEY_WOW64_32KEY.
  static Result<RegistryKey> open(HKEY root, std::wstring_view path, REGSAM view = 0);

  RegistryKey(RegistryKey&& other) noexcept;
  RegistryKey& operator=(RegistryKey&& other) noexcept;
  RegistryKey(const RegistryKey&) = delete;
  RegistryKey& operator=(const RegistryKey&) = delete;
  ~RegistryKey();

  // REG_SZ or REG_EXPAND_SZ (not expanded), without its terminating NUL.
  Result<std::string> string(std::wstring_view name) const;
  // REG_DWORD or REG_QWORD.
  Result<std::uint64_t> number(std::wstring_view name) const;
  // Names of the direct subkeys, in the order the registry gives them.
  Result<std::vector<std::wstring>> subkeys() const;
  // A subkey of this key, opened in the same view.
  Result<RegistryKey> child(std::wstring_view name) const;

 private:
  RegistryKey(HKEY key, REGSAM view) : key_(key), view_(view) {}
  HKEY key_ = nullptr;
  REGSAM view_ = 0;
};

// One string value under HKEY_LOCAL_MACHINE (64-bit view).
Result<std::string> read_machine_string(std::wstring_view path, std::wstring_view name);

}  // namespace rmm::agent::platform
