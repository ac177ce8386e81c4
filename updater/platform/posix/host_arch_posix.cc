#include <sys/utsname.h>

#include "updater/release/manifest.h"

namespace rmm::release {

std::string host_arch() {
  struct utsname u {};
  if (::uname(&u) != 0) return "unknown";
  return u.machine;
}

}  // namespace rmm::release
