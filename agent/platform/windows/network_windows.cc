// Cumulative traffic counters of every network interface.
#include "agent/platform/collectors.h"
#include "agent/platform/text_limits.h"
#include "agent/platform/windows/sdk_windows.h"
#include "common/platform/windows/wide_text.h"

namespace rmm::agent::platform {
namespace {

// GetIfTable2 lists every layer of the stack: filter drivers (QoS, WFP, virtual switch
// extensions) stacked on each adapter, and a pile of absent WAN miniports. Only the interfaces a
// user would recognise are kept: hardware adapters, the loopback, and anything up (VPNs, tunnels).
bool is_reported(const MIB_IF_ROW2& row) {
  if (row.InterfaceAndOperStatusFlags.FilterInterface) return false;
  return row.InterfaceAndOperStatusFlags.HardwareInterface ||
         row.Type == IF_TYPE_SOFTWARE_LOOPBACK || row.OperStatus == IfOperStatusUp;
}

}  // namespace

Status collect_network(SamplerState&, codec::MetricsInfo& out) {
  MIB_IF_TABLE2* table = nullptr;
  const DWORD status = ::GetIfTable2(&table);
  if (status != NO_ERROR) return std::unexpected(rmm::win::win32_error("GetIfTable2", status));
  std::vector<codec::NetIoInfo> list;
  for (ULONG i = 0; i < table->NumEntries && list.size() < kMaxNetInterfaces; ++i) {
    const MIB_IF_ROW2& row = table->Table[i];
    if (!is_reported(row)) continue;
    codec::NetIoInfo n;
    // Alias is the name the user sees ("Ethernet", "Wi-Fi"); Description names the adapter.
    n.name = clip_text(rmm::win::to_utf8(row.Alias[0] != L'\0' ? row.Alias : row.Description));
    n.rx_bytes = row.InOctets;
    n.rx_packets = row.InUcastPkts + row.InNUcastPkts;
    n.rx_errors = row.InErrors;
    n.rx_drops = row.InDiscards;
    n.tx_bytes = row.OutOctets;
    n.tx_packets = row.OutUcastPkts + row.OutNUcastPkts;
    n.tx_errors = row.OutErrors;
    n.tx_drops = row.OutDiscards;
    list.push_back(std::move(n));
  }
  ::FreeMibTable(table);
  out.network = std::move(list);
  return {};
}

}  // namespace rmm::agent::platform
