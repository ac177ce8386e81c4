#include "agent/collectors/registry.h"

#include <array>

namespace rmm::agent::collectors {
namespace p = platform;
namespace {

constexpr std::array<MetricsCollectorSpec, 10> kMetrics = {{
    {"cpu", kLinux, true, &p::collect_cpu, "cpu_percent, cpu_core_percent, cpu_interval_ms"},
    {"load", kLinux, false, &p::collect_load, "load1, load5, load15"},
    {"memory", kLinux, false, &p::collect_memory, "memory_*, swap_*"},
    {"filesystems", kLinux, false, &p::collect_filesystems, "filesystems"},
    {"disk_io", kLinux, false, &p::collect_disk_io, "disks"},
    {"network", kLinux, false, &p::collect_network, "network"},
    {"temperatures", kLinux, false, &p::collect_temperatures, "temperatures"},
    {"uptime", kLinux, false, &p::collect_uptime, "uptime_s"},
    {"processes", kLinux, true, &p::collect_processes, "process_count, top_processes"},
    {"users", kLinux, false, &p::collect_users, "logged_in_users"},
}};

constexpr std::array<InventoryCollectorSpec, 5> kInventory = {{
    {"host_identity", kLinux, &p::collect_host_identity,
     "hostname, fqdn, os_*, kernel, arch, boot_time_ns, machine_id"},
    {"hardware", kLinux, &p::collect_hardware, "cpu_*, memory_total_bytes, dmi_*"},
    {"interfaces", kLinux, &p::collect_interfaces, "interfaces"},
    {"packages", kLinux, &p::collect_packages, "package_manager, packages, packages_truncated"},
    {"services", kLinux, &p::collect_services,
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
