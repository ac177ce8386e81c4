#include <cstdio>
#include <string>

#include "common/service_host.h"

namespace rmm::service {

int install_command(std::string_view program, const ServiceSpec& spec) {
  if (auto st = install(spec); !st) {
    std::fprintf(stderr, "%s: %s\n", std::string(program).c_str(), st.error().message.c_str());
    return 1;
  }
  std::printf("installed the service %s\n", spec.name.c_str());
  return 0;
}

int uninstall_command(std::string_view program, std::string_view name) {
  if (auto st = uninstall(name); !st) {
    std::fprintf(stderr, "%s: %s\n", std::string(program).c_str(), st.error().message.c_str());
    return 1;
  }
  std::printf("removed the service %s\n", std::string(name).c_str());
  return 0;
}

}  // namespace rmm::service
