// Processor, memory and firmware (SMBIOS) facts.
#include "agent/platform/windows/hardware_windows.h"

#include <bit>
#include <vector>

#include "agent/platform/collectors.h"
#include "agent/platform/windows/os_version_windows.h"
#include "agent/platform/windows/sdk_windows.h"
#include "agent/platform/windows/smbios.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

// 'RSMB': the raw SMBIOS provider of GetSystemFirmwareTable.
constexpr DWORD kRawSmbios = 0x52534D42;

Result<SmbiosFacts> read_smbios() {
  const UINT size = ::GetSystemFirmwareTable(kRawSmbios, 0, nullptr, 0);
  if (size == 0) return std::unexpected(rmm::win::last_error("GetSystemFirmwareTable(RSMB)"));
  std::vector<std::uint8_t> data(size);
  const UINT got = ::GetSystemFirmwareTable(kRawSmbios, 0, data.data(), size);
  if (got == 0 || got > size) {
    return std::unexpected(rmm::win::last_error("GetSystemFirmwareTable(RSMB)"));
  }
  data.resize(got);
  return parse_smbios(data);
}

}  // namespace

Result<CpuTopology> cpu_topology() {
  DWORD bytes = 0;
  ::GetLogicalProcessorInformationEx(RelationAll, nullptr, &bytes);
  if (bytes == 0) return std::unexpected(rmm::win::last_error("GetLogicalProcessorInformationEx"));
  std::vector<std::byte> buffer(bytes);
  auto* first = reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buffer.data());
  if (!::GetLogicalProcessorInformationEx(RelationAll, first, &bytes)) {
    return std::unexpected(rmm::win::last_error("GetLogicalProcessorInformationEx"));
  }
  CpuTopology t;
  for (DWORD offset = 0; offset < bytes;) {
    const auto* info =
        reinterpret_cast<const SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buffer.data() + offset);
    if (info->Size == 0) break;
    if (info->Relationship == RelationProcessorPackage) {
      ++t.sockets;
    } else if (info->Relationship == RelationProcessorCore) {
      ++t.cores;
      for (WORD g = 0; g < info->Processor.GroupCount; ++g) {
        t.threads += static_cast<std::uint32_t>(std::popcount(info->Processor.GroupMask[g].Mask));
      }
    }
    offset += info->Size;
  }
  if (t.threads == 0) t.threads = ::GetActiveProcessorCount(ALL_PROCESSOR_GROUPS);
  if (t.cores == 0) t.cores = t.threads;
  if (t.sockets == 0 && t.threads > 0) t.sockets = 1;
  return t;
}

Result<std::uint64_t> physical_memory_bytes() {
  MEMORYSTATUSEX status{};
  status.dwLength = sizeof status;
  if (!::GlobalMemoryStatusEx(&status)) {
    return std::unexpected(rmm::win::last_error("GlobalMemoryStatusEx"));
  }
  return status.ullTotalPhys;
}

Status collect_hardware(codec::InventoryInfo& out) {
  out.cpu_model = processor_model();
  auto topology = cpu_topology();
  if (!topology) return std::unexpected(topology.error());
  out.cpu_sockets = topology->sockets;
  out.cpu_cores = topology->cores;
  out.cpu_threads = topology->threads;
  auto memory = physical_memory_bytes();
  if (!memory) return std::unexpected(memory.error());
  out.memory_total_bytes = *memory;

  // The system (type 1) strings are what Linux shows as sys_vendor, product_name and
  // product_serial; the baseboard (type 2) stands in where a builder left them blank. Firmware
  // without SMBIOS (some ARM machines) is not a failure, as on Linux.
  if (auto smbios = read_smbios()) {
    out.dmi_vendor = !smbios->system_vendor.empty() ? smbios->system_vendor : smbios->board_vendor;
    out.dmi_product =
        !smbios->system_product.empty() ? smbios->system_product : smbios->board_product;
    out.dmi_serial = !smbios->system_serial.empty() ? smbios->system_serial : smbios->board_serial;
  }
  return {};
}

}  // namespace rmm::agent::platform
