// Windows services from the Service Control Manager, with state and start type.
#include <memory>
#include <vector>

#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

struct ServiceHandleCloser {
  void operator()(SC_HANDLE h) const { ::CloseServiceHandle(h); }
};
using ServiceHandle = std::unique_ptr<std::remove_pointer_t<SC_HANDLE>, ServiceHandleCloser>;

// The Service record was shaped by systemd; on Windows its three strings hold:
//   load_state   the start type: auto, auto-delayed, manual, disabled (boot, system: drivers)
//   active_state systemd's summary of the state: active, inactive, activating, deactivating
//   sub_state    the SCM's own state: running, stopped, paused, start-pending, ...
struct StateNames {
  const char* active;
  const char* sub;
};
StateNames state_names(DWORD state) {
  switch (state) {
    case SERVICE_RUNNING:
      return {"active", "running"};
    case SERVICE_STOPPED:
      return {"inactive", "stopped"};
    case SERVICE_START_PENDING:
      return {"activating", "start-pending"};
    case SERVICE_STOP_PENDING:
      return {"deactivating", "stop-pending"};
    case SERVICE_PAUSED:
      return {"active", "paused"};
    case SERVICE_PAUSE_PENDING:
      return {"active", "pause-pending"};
    case SERVICE_CONTINUE_PENDING:
      return {"activating", "continue-pending"};
    default:
      return {"unknown", "unknown"};
  }
}

std::string start_type(SC_HANDLE manager, const wchar_t* name) {
  ServiceHandle service(::OpenServiceW(manager, name, SERVICE_QUERY_CONFIG));
  if (!service) return "unknown";
  DWORD needed = 0;
  ::QueryServiceConfigW(service.get(), nullptr, 0, &needed);
  if (needed == 0) return "unknown";
  std::vector<std::byte> buffer(needed);
  auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
  if (!::QueryServiceConfigW(service.get(), config, needed, &needed)) return "unknown";
  switch (config->dwStartType) {
    case SERVICE_AUTO_START: {
      SERVICE_DELAYED_AUTO_START_INFO delayed{};
      DWORD size = 0;
      if (::QueryServiceConfig2W(service.get(), SERVICE_CONFIG_DELAYED_AUTO_START_INFO,
                                 reinterpret_cast<BYTE*>(&delayed), sizeof delayed, &size) &&
          delayed.fDelayedAutostart) {
        return "auto-delayed";
      }
      return "auto";
    }
    case SERVICE_DEMAND_START:
      return "manual";
    case SERVICE_DISABLED:
      return "disabled";
    case SERVICE_BOOT_START:
      return "boot";
    case SERVICE_SYSTEM_START:
      return "system";
    default:
      return "unknown";
  }
}

}  // namespace

// Win32 services only (own and shared processes), not kernel drivers, as systemctl lists
// services and not kernel modules.
Status collect_services(codec::InventoryInfo& out) {
  ServiceHandle manager(
      ::OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_ENUMERATE_SERVICE));
  if (!manager) return std::unexpected(rmm::win::last_error("OpenSCManagerW"));

  // EnumServicesStatusExW hands out as many as fit with ERROR_MORE_DATA, and `resume` carries
  // on from there; a buffer too small for even one entry is grown to what it asks for.
  std::vector<std::byte> buffer(64 * 1024);
  DWORD resume = 0;
  std::vector<codec::ServiceInfo> services;
  bool truncated = false;
  for (;;) {
    DWORD needed = 0, count = 0;
    const BOOL done = ::EnumServicesStatusExW(
        manager.get(), SC_ENUM_PROCESS_INFO, SERVICE_WIN32, SERVICE_STATE_ALL,
        reinterpret_cast<BYTE*>(buffer.data()), static_cast<DWORD>(buffer.size()), &needed, &count,
        &resume, nullptr);
    if (!done && ::GetLastError() != ERROR_MORE_DATA) {
      return std::unexpected(rmm::win::last_error("EnumServicesStatusExW"));
    }
    const auto* list = reinterpret_cast<const ENUM_SERVICE_STATUS_PROCESSW*>(buffer.data());
    for (DWORD i = 0; i < count && !truncated; ++i) {
      if (services.size() >= kMaxServices) {
        truncated = true;
        break;
      }
      const auto names = state_names(list[i].ServiceStatusProcess.dwCurrentState);
      services.push_back({clip_text(rmm::win::to_utf8(list[i].lpServiceName)),
                          start_type(manager.get(), list[i].lpServiceName), names.active,
                          names.sub});
    }
    if (done || truncated) break;
    if (count == 0) {
      if (needed <= buffer.size() || needed > (4u << 20)) {
        return fail("EnumServicesStatusExW asks for an unusable buffer size");
      }
      buffer.assign(needed, std::byte{0});
    }
  }
  out.services = std::move(services);
  out.services_truncated = truncated;
  out.services_unavailable_reason.clear();
  return {};
}

}  // namespace rmm::agent::platform
