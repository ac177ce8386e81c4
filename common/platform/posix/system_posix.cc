#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstdlib>

#include "common/platform/system.h"

namespace rmm::platform {

void set_env(const char* name, const std::string& value) {
  ::setenv(name, value.c_str(), 1);
}

std::optional<bool> ip_is_loopback(const std::string& text) {
  in_addr v4{};
  if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6) != 0;
  return std::nullopt;
}

}  // namespace rmm::platform
