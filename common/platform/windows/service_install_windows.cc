// rmm::service::install and uninstall on Windows: the service control manager's registry of
// services.
#include <chrono>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/platform/windows/command_line.h"
#include "common/platform/windows/wide_text.h"
#include "common/platform/windows/windows_api.h"
#include "common/service_host.h"

namespace rmm::service {
namespace {

using namespace std::chrono_literals;

class ScHandle {
 public:
  explicit ScHandle(SC_HANDLE h) : h_(h) {}
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  ~ScHandle() {
    if (h_ != nullptr) ::CloseServiceHandle(h_);
  }
  SC_HANDLE get() const { return h_; }
  explicit operator bool() const { return h_ != nullptr; }

 private:
  SC_HANDLE h_;
};

// Restarts after 5 s, then 30 s, then every 2 min; the count starts over after a day without
// failures. The watchdog restarts the agent itself, so these matter for the watchdog (and for an
// agent installed without one).
Status set_recovery(SC_HANDLE service) {
  SC_ACTION actions[] = {
      {SC_ACTION_RESTART, 5'000}, {SC_ACTION_RESTART, 30'000}, {SC_ACTION_RESTART, 120'000}};
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = 24 * 60 * 60;
  failure.cActions = static_cast<DWORD>(std::size(actions));
  failure.lpsaActions = actions;
  if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS, &failure)) {
    return std::unexpected(rmm::win::last_error("setting the service's recovery actions"));
  }
  // Also when the program exits with an error code, not only when it crashes.
  SERVICE_FAILURE_ACTIONS_FLAG on_error{TRUE};
  if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &on_error)) {
    // Wine's service manager does not know this setting; Windows has it since Vista.
    if (::GetLastError() != ERROR_INVALID_LEVEL) {
      return std::unexpected(rmm::win::last_error("setting the service's failure actions flag"));
    }
    log::warn("service.failure_flag_unsupported",
              {{"detail", "restarts only after a crash, not after an error exit"}});
  }
  return {};
}

// `command` with an empty program replaced by this executable's full path.
std::vector<std::string> with_program(std::vector<std::string> command) {
  if (!command.empty() && command[0].empty()) {
    std::wstring path(MAX_PATH, L'\0');
    for (;;) {
      const DWORD n = ::GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
      if (n < path.size()) {
        path.resize(n);
        break;
      }
      path.resize(path.size() * 2);
    }
    command[0] = rmm::win::to_utf8(path);
  }
  return command;
}

// Description and recovery actions of a new or reconfigured service.
Status describe(SC_HANDLE service, const ServiceSpec& spec, std::wstring& description) {
  SERVICE_DESCRIPTIONW text{description.data()};
  if (!::ChangeServiceConfig2W(service, SERVICE_CONFIG_DESCRIPTION, &text)) {
    return std::unexpected(rmm::win::last_error("describing " + spec.name));
  }
  return set_recovery(service);
}

// An existing service of the name: installing again updates its program and start type.
Status reconfigure(SC_HANDLE scm, const ServiceSpec& spec, const std::wstring& name,
                   const std::wstring& display, std::wstring& description,
                   const std::wstring& command) {
  ScHandle service(::OpenServiceW(scm, name.c_str(), SERVICE_ALL_ACCESS));
  if (!service) return std::unexpected(rmm::win::last_error("opening " + spec.name));
  if (!::ChangeServiceConfigW(service.get(), SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                              SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
                              nullptr, nullptr, display.c_str())) {
    return std::unexpected(rmm::win::last_error("reconfiguring " + spec.name));
  }
  return describe(service.get(), spec, description);
}

}  // namespace

Status install(const ServiceSpec& spec) {
  if (spec.command.empty()) return fail("a service needs a program");
  auto name = rmm::win::to_wide(spec.name);
  auto display = rmm::win::to_wide(spec.display_name);
  auto description = rmm::win::to_wide(spec.description);
  auto command = rmm::win::build_command_line(with_program(spec.command));
  for (const auto* r : {&name, &display, &description, &command}) {
    if (!*r) return std::unexpected(r->error());
  }
  ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE));
  if (!scm) {
    return std::unexpected(rmm::win::last_error(
        "opening the service control manager (installing a service needs an administrator)"));
  }
  ScHandle service(::CreateServiceW(scm.get(), name->c_str(), display->c_str(), SERVICE_ALL_ACCESS,
                                    SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                    SERVICE_ERROR_NORMAL, command->c_str(), nullptr, nullptr,
                                    nullptr, nullptr /* LocalSystem */, nullptr));
  if (!service) {
    if (::GetLastError() != ERROR_SERVICE_EXISTS) {
      return std::unexpected(rmm::win::last_error("creating " + spec.name));
    }
    return reconfigure(scm.get(), spec, *name, *display, *description, *command);
  }
  return describe(service.get(), spec, *description);
}

Status uninstall(std::string_view name_utf8) {
  auto name = rmm::win::to_wide(name_utf8);
  if (!name) return std::unexpected(name.error());
  ScHandle scm(::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) {
    return std::unexpected(rmm::win::last_error(
        "opening the service control manager (removing a service needs an administrator)"));
  }
  ScHandle service(
      ::OpenServiceW(scm.get(), name->c_str(), SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  if (!service) {
    if (::GetLastError() == ERROR_SERVICE_DOES_NOT_EXIST) {
      return fail(Error::Code::kNotFound, fmt::format("there is no service {}", name_utf8));
    }
    return std::unexpected(rmm::win::last_error(fmt::format("opening {}", name_utf8)));
  }
  SERVICE_STATUS status{};
  if (::ControlService(service.get(), SERVICE_CONTROL_STOP, &status)) {
    // Deleting a running service only marks it; wait so the program is gone when we return.
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (::QueryServiceStatus(service.get(), &status) &&
           status.dwCurrentState != SERVICE_STOPPED &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(200ms);
    }
  }
  if (!::DeleteService(service.get())) {
    return std::unexpected(rmm::win::last_error(fmt::format("deleting {}", name_utf8)));
  }
  return {};
}

}  // namespace rmm::service
