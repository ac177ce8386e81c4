#include "agent/collectors/registry.h"

#include <array>

namespace rmm::agent::collectors {
namespace p = platform;
namespace {

constexpr std::array<MetricsCollectorSpec, 10> kMetrics = {{
    {"cpu", kLinux | kWindows, true, &p::collect_cpu,
     "cpu_percent, cpu_core_percent, cpu_interval_ms"},
    // Windows keeps no load average: a Windows sample lists "load" among its collection errors.
    {"load", kLinux, false, &p::collect_load, "load1, load5, load15"},
    {"memory", kLinux | kWindows, false, &p::collect_memory, "memory_*, swap_*"},
    {"filesystems", kLinux | kWindows, false, &p::collect_filesystems, "filesystems"},
    {"disk_io", kLinux | kWindows, false, &p::collect_disk_io, "disks"},
    {"network", kLinux | kWindows, false, &p::collect_network, "network"},
    {"temperatures", kLinux | kWindows, false, &p::collect_temperatures, "temperatures"},
    {"uptime", kLinux | kWindows, false, &p::collect_uptime, "uptime_s"},
    {"processes", kLinux | kWindows, true, &p::collect_processes, "process_count, top_processes"},
    {"users", kLinux | kWindows, false, &p::collect_users, "logged_in_users"},
}};

constexpr std::array<InventoryCollectorSpec, 5> kInventory = {{
    {"host_identity", kLinux | kWindows, &p::collect_host_identity,
     "hostname, fqdn, os_*, kernel, arch, boot_time_ns, machine_id"},
    {"hardware", kLinux | kWindows, &p::collect_hardware, "cpu_*, memory_total_bytes, dmi_*"},
    {"interfaces", kLinux | kWindows, &p::collect_interfaces, "interfaces"},
    {"packages", kLinux | kWindows, &p::collect_packages,
     "package_manager, packages, packages_truncated"},
    {"services", kLinux | kWindows, &p::collect_services,
     "services, services_truncated, services_unavailable_reason"},
}};

}  // namespace

std::span<const MetricsCollectorSpec> metrics_collectors() {
  return kMetrics;
}
std::span<const InventoryCollectorSpec> inventory_collectors() {
  return kInventory;
}

bool supported_here(Platforms platforms) {
  return (platforms & static_cast<Platforms>(p::current_os())) != 0;
}

bool is_known_collector(std::string_view name) {
  for (const auto& c : kMetrics) {
    if (c.name == name) return true;
  }
  for (const auto& c : kInventory) {
    if (c.name == name) return true;
  }
  return false;
}

}  // namespace rmm::agent::collectors
