#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/utsname.h>

#include <cstdlib>
#include <fstream>

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

std::string machine_arch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  return u.machine;
}

std::optional<std::uint64_t> resident_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  }
  return std::nullopt;
}

}  // namespace rmm::platform
