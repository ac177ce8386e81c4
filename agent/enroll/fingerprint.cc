#include "agent/enroll/fingerprint.h"

#include <array>

#include "agent/platform/collectors.h"

namespace rmm::agent::enroll {
namespace {

constexpr std::array<std::string_view, 16> kVirtualPrefixes = {
    "lo",   "docker", "veth",    "br-",  "virbr", "tun",   "tap",   "wg",
    "vnet", "cni",    "flannel", "cali", "vxlan", "kube-", "dummy", "podman",
};

bool is_zero_mac(std::string_view mac) {
  for (char c : mac) {
    if (c != '0' && c != ':') return false;
  }
  return true;
}

}  // namespace

bool is_virtual_interface(std::string_view name) {
  for (auto prefix : kVirtualPrefixes) {
    if (name.starts_with(prefix)) return true;
  }
  return false;
}

Result<MachineFacts> collect_machine_facts() {
  codec::InventoryInfo inv;
  // Each collector fills its own fields; a failed one leaves them empty.
  auto identity = platform::collect_host_identity(inv);
  auto hardware = platform::collect_hardware(inv);
  auto interfaces = platform::collect_interfaces(inv);
  MachineFacts f{inv.hostname, inv.machine_id, inv.dmi_serial, {}};
  for (const auto& i : inv.interfaces) {
    if (i.mac.empty() || is_zero_mac(i.mac) || is_virtual_interface(i.name)) continue;
    f.macs.push_back(i.mac);
  }
  if (f.machine_id.empty() && f.dmi_serial.empty() && f.macs.empty()) {
    std::string why = !identity     ? identity.error().message
                      : !interfaces ? interfaces.error().message
                      : !hardware   ? hardware.error().message
                                    : "no machine-id, DMI serial or physical MAC address";
    return failf("cannot fingerprint this machine: {}", why);
  }
  return f;
}

}  // namespace rmm::agent::enroll
