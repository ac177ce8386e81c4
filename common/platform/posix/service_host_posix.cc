#include "common/service_host.h"

namespace rmm::service {

int run(std::string_view, MainFunction main_fn, int argc, char** argv) {
  return main_fn(argc, argv);
}

Status install(const ServiceSpec&) {
  return fail(Error::Code::kNotSupported,
              "installing a service is not supported on this platform (the Debian package "
              "installs the systemd units)");
}

Status uninstall(std::string_view) {
  return fail(Error::Code::kNotSupported,
              "removing a service is not supported on this platform (the Debian package "
              "removes the systemd units)");
}

}  // namespace rmm::service
