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

#include <cstddef>
#include <set>
#include <string>

#include "common/event_codec.h"
#include "common/result.h"

namespace rmm::agent::collectors {

struct InventoryOptions {
  std::set<std::string, std::less<>> disabled;  // collector names switched off by configuration
};

// Bounded by bound_inventory(kMaxInventoryBytes).
Result<codec::InventoryInfo> collect_inventory(const InventoryOptions& options = {});

// Most bytes an encoded Inventory may take: below the broker's default 1 MiB max_payload with room
// for the envelope and headers.
inline constexpr std::size_t kMaxInventoryBytes = 900 * 1024;

// An upper estimate of the encoded size of `inv` (strings, tables, vectors, alignment).
std::size_t estimate_inventory_bytes(const codec::InventoryInfo& inv);

// Drops packages, then services, from the end until the estimate fits `max_bytes`, setting the
// matching *_truncated flag. The per-field bounds keep a normal host far below this; it exists so
// that no host, however odd, produces an event the broker refuses.
void bound_inventory(codec::InventoryInfo& inv, std::size_t max_bytes);

}  // namespace rmm::agent::collectors
