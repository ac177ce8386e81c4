// The telemetry collectors, behind one neutral interface. Each platform folder implements every
// function declared here (CMake compiles exactly one folder), so a platform that forgets one fails
// to link; a platform without an implementation returns Error::Code::kNotSupported.
//
// Each collector fills its own members of a codec::MetricsInfo or codec::InventoryInfo and leaves
// the others alone. agent/collectors/registry.h lists them with the platforms they support.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/event_codec.h"
#include "common/result.h"

namespace rmm::agent::platform {

enum class Os : unsigned { kLinux = 1u << 0, kWindows = 1u << 1, kMacos = 1u << 2 };

// The platform this build was compiled for.
Os current_os();

inline std::string_view os_label(Os os) {
  switch (os) {
    case Os::kLinux:
      return "linux";
    case Os::kWindows:
      return "windows";
    case Os::kMacos:
      return "macos";
  }
  return "unknown";
}

// Counters a stateful collector keeps between two samples to turn them into rates.
struct SamplerState {
  struct CpuTicks {
    std::uint64_t busy = 0;
    std::uint64_t total = 0;
  };
  struct ProcessTicks {
    std::uint64_t start_ticks = 0;  // tells a reused pid from the process seen before
    std::uint64_t cpu_ticks = 0;
  };
  std::vector<CpuTicks> cpu;  // [0] all CPUs, then one per CPU; empty before the first sample
  std::unordered_map<std::uint32_t, ProcessTicks> processes;
  std::uint64_t processes_total_ticks = 0;  // all-CPU ticks at the previous process scan
  std::unordered_map<std::uint32_t, std::string> user_names;   // uid -> name cache
  std::unordered_map<std::string, std::string> account_names;  // Windows: SID -> name cache
};

// --- metrics ---
// cpu_percent, cpu_core_percent, cpu_interval_ms: busy share since the previous call (0 on the
// first call, which only records the baseline).
Status collect_cpu(SamplerState& state, codec::MetricsInfo& out);
Status collect_load(SamplerState& state, codec::MetricsInfo& out);
// memory_*, swap_*.
Status collect_memory(SamplerState& state, codec::MetricsInfo& out);
Status collect_filesystems(SamplerState& state, codec::MetricsInfo& out);
Status collect_disk_io(SamplerState& state, codec::MetricsInfo& out);
Status collect_network(SamplerState& state, codec::MetricsInfo& out);
Status collect_temperatures(SamplerState& state, codec::MetricsInfo& out);
Status collect_uptime(SamplerState& state, codec::MetricsInfo& out);
// process_count and top_processes (CPU % since the previous call, 0 on the first).
Status collect_processes(SamplerState& state, codec::MetricsInfo& out);
Status collect_users(SamplerState& state, codec::MetricsInfo& out);

// --- inventory ---
// hostname, fqdn, os_*, kernel, arch, boot_time_ns, machine_id.
Status collect_host_identity(codec::InventoryInfo& out);
// cpu_*, memory_total_bytes, dmi_*.
Status collect_hardware(codec::InventoryInfo& out);
Status collect_interfaces(codec::InventoryInfo& out);
// package_manager, packages, packages_truncated.
Status collect_packages(codec::InventoryInfo& out);
// services, services_truncated, services_unavailable_reason.
Status collect_services(codec::InventoryInfo& out);

}  // namespace rmm::agent::platform
