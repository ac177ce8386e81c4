// Collects an Inventory (codec::InventoryInfo for codec::build_inventory): at agent start, every
// inventory_interval and on the refresh_inventory command.
//
// As with metrics, a failed collector leaves its fields empty and adds "<name>: <reason>" to
// collection_errors; the call fails only when every collector failed.
//
// Concurrency: safe to call from any thread; no shared state. It reads the package database and
// may run `systemctl` and `rpm` (bounded to 30 s and 60 s) and resolve the FQDN, so call it off any
// latency-sensitive loop.
#pragma once

#include <set>
#include <string>

#include "common/event_codec.h"
#include "common/result.h"

namespace rmm::agent::collectors {

struct InventoryOptions {
  std::set<std::string, std::less<>> disabled;  // collector names switched off by configuration
};

Result<codec::InventoryInfo> collect_inventory(const InventoryOptions& options = {});

}  // namespace rmm::agent::collectors
