#include <ws2tcpip.h>

#include <cstdlib>

#include "common/platform/system.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"

namespace rmm::platform {

// Both environments: the C runtime's (getenv) and the process's (OpenSSL 3 reads variables with
// GetEnvironmentVariableW on Windows).
void set_env(const char* name, const std::string& value) {
  ::_putenv_s(name, value.c_str());
  auto wname = win::to_wide(name);
  auto wvalue = win::to_wide(value);
  if (wname && wvalue) ::SetEnvironmentVariableW(wname->c_str(), wvalue->c_str());
}

std::optional<bool> ip_is_loopback(const std::string& text) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  return std::nullopt;
}

}  // namespace rmm::platform
