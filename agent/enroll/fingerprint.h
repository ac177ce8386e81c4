// What identifies this machine at enrollment: machine-id, DMI serial and the MAC addresses of
// its physical network interfaces, read through the platform collectors. The services side hashes
// them; only the hash is stored.
//
// Virtual interfaces (containers, bridges, tunnels) come and go, so their MACs are left out:
// otherwise a machine would look like a clone of itself after starting a container. A cloned VM
// keeps machine-id and disk contents but gets new MACs, which is what tells it apart.
//
// Limitations: the DMI serial needs root on Linux; without it the fingerprint rests on the
// machine-id and MACs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::agent::enroll {

struct MachineFacts {
  std::string hostname;
  std::string machine_id;
  std::string dmi_serial;
  std::vector<std::string> macs;
};

// Fails only when no identifying fact at all could be read.
Result<MachineFacts> collect_machine_facts();

// True for interface names of virtual devices (lo, docker0, veth*, br-*, virbr*, tun*, ...).
bool is_virtual_interface(std::string_view name);

}  // namespace rmm::agent::enroll
