#include "agent/collectors/inventory.h"

#include "agent/collectors/collection_errors.h"
#include "agent/collectors/registry.h"

namespace rmm::agent::collectors {
namespace {

// A FlatBuffers string: length prefix, bytes, NUL, padding to 4; plus its offset in the table.
std::size_t str_bytes(const std::string& s) {
  return 4 + s.size() + 1 + 3 + 4;
}
// A table with `fields` fields: its vtable (not always shared), soffset, slots and alignment.
std::size_t table_bytes(std::size_t fields) {
  return 4 + 2 * (fields + 2) + 8 * fields + 8;
}

std::size_t package_bytes(const codec::PackageInfo& p) {
  return table_bytes(3) + str_bytes(p.name) + str_bytes(p.version) + str_bytes(p.arch) + 4;
}
std::size_t service_bytes(const codec::ServiceInfo& s) {
  return table_bytes(4) + str_bytes(s.name) + str_bytes(s.load_state) + str_bytes(s.active_state) +
         str_bytes(s.sub_state) + 4;
}

}  // namespace

std::size_t estimate_inventory_bytes(const codec::InventoryInfo& inv) {
  std::size_t n = 256 + table_bytes(26);  // envelope and the Inventory table itself
  for (const auto* s :
       {&inv.hostname, &inv.fqdn, &inv.os_name, &inv.os_version, &inv.os_pretty, &inv.kernel,
        &inv.arch, &inv.cpu_model, &inv.machine_id, &inv.dmi_vendor, &inv.dmi_product,
        &inv.dmi_serial, &inv.package_manager, &inv.services_unavailable_reason}) {
    n += str_bytes(*s);
  }
  for (const auto& i : inv.interfaces) {
    n += table_bytes(3) + str_bytes(i.name) + str_bytes(i.mac) + 8;
    for (const auto& a : i.addresses) n += str_bytes(a);
  }
  for (const auto& p : inv.packages) n += package_bytes(p);
  for (const auto& s : inv.services) n += service_bytes(s);
  for (const auto& e : inv.collection_errors) n += str_bytes(e);
  return n + 4 * 8;  // vector length prefixes
}

void bound_inventory(codec::InventoryInfo& inv, std::size_t max_bytes) {
  std::size_t n = estimate_inventory_bytes(inv);
  while (n > max_bytes && !inv.packages.empty()) {
    n -= package_bytes(inv.packages.back());
    inv.packages.pop_back();
    inv.packages_truncated = true;
  }
  while (n > max_bytes && !inv.services.empty()) {
    n -= service_bytes(inv.services.back());
    inv.services.pop_back();
    inv.services_truncated = true;
  }
}

Result<codec::InventoryInfo> collect_inventory(const InventoryOptions& options) {
  codec::InventoryInfo out;
  std::size_t ran = 0, failed = 0;
  for (const auto& c : inventory_collectors()) {
    if (options.disabled.contains(c.name)) continue;
    ++ran;
    Status status = supported_here(c.platforms)
                        ? c.collect(out)
                        : fail(Error::Code::kNotSupported,
                               std::string("not supported on this platform (") +
                                   std::string(platform::os_label(platform::current_os())) + ")");
    if (!status) {
      ++failed;
      add_collection_error(out.collection_errors, c.name, status.error());
    }
  }
  if (ran > 0 && failed == ran) {
    return fail("every inventory collector failed; first: " + out.collection_errors.front());
  }
  bound_inventory(out, kMaxInventoryBytes);
  return out;
}

}  // namespace rmm::agent::collectors
