// Telemetry collectors are not implemented on windows yet: every one fails explicitly, so a
// sample lists them in collection_errors instead of sending zeros that look like data.
// TODO(platform): implement for windows (PDH counters, WMI/CIM, the registry's Uninstall keys, the
// Service Control Manager).
#include "agent/platform/collectors.h"

namespace rmm::agent::platform {
namespace {

std::unexpected<Error> not_supported(std::string_view what) {
  return fail(Error::Code::kNotSupported,
              std::string(what) + " is not supported on this platform (windows)");
}

}  // namespace

Os current_os() {
  return Os::kWindows;
}

// TODO(platform): windows.
Status collect_cpu(SamplerState&, codec::MetricsInfo&) {
  return not_supported("cpu");
}
// TODO(platform): windows.
Status collect_load(SamplerState&, codec::MetricsInfo&) {
  return not_supported("load");
}
// TODO(platform): windows.
Status collect_memory(SamplerState&, codec::MetricsInfo&) {
  return not_supported("memory");
}
// TODO(platform): windows.
Status collect_filesystems(SamplerState&, codec::MetricsInfo&) {
  return not_supported("filesystems");
}
// TODO(platform): windows.
Status collect_disk_io(SamplerState&, codec::MetricsInfo&) {
  return not_supported("disk_io");
}
// TODO(platform): windows.
Status collect_network(SamplerState&, codec::MetricsInfo&) {
  return not_supported("network");
}
// TODO(platform): windows.
Status collect_temperatures(SamplerState&, codec::MetricsInfo&) {
  return not_supported("temperatures");
}
// TODO(platform): windows.
Status collect_uptime(SamplerState&, codec::MetricsInfo&) {
  return not_supported("uptime");
}
// TODO(platform): windows.
Status collect_processes(SamplerState&, codec::MetricsInfo&) {
  return not_supported("processes");
}
// TODO(platform): windows.
Status collect_users(SamplerState&, codec::MetricsInfo&) {
  return not_supported("users");
}
// TODO(platform): windows.
Status collect_host_identity(codec::InventoryInfo&) {
  return not_supported("host_identity");
}
// TODO(platform): windows.
Status collect_hardware(codec::InventoryInfo&) {
  return not_supported("hardware");
}
// TODO(platform): windows.
Status collect_interfaces(codec::InventoryInfo&) {
  return not_supported("interfaces");
}
// TODO(platform): windows.
Status collect_packages(codec::InventoryInfo&) {
  return not_supported("packages");
}
// TODO(platform): windows.
Status collect_services(codec::InventoryInfo&) {
  return not_supported("services");
}

}  // namespace rmm::agent::platform
