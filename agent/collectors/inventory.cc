#include "agent/collectors/inventory.h"

#include "agent/collectors/collection_errors.h"
#include "agent/collectors/registry.h"

namespace rmm::agent::collectors {

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
  return out;
}

}  // namespace rmm::agent::collectors
