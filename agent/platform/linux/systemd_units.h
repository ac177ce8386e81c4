// `systemctl list-units --type=service --all --no-legend --plain` output.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/event_codec.h"

namespace rmm::agent::linux_proc {

struct ServiceList {
  std::vector<codec::ServiceInfo> services;
  bool truncated = false;
};

// "UNIT LOAD ACTIVE SUB DESCRIPTION" per line; a leading status bullet ("●", printed for
// not-found or failed units by some versions even with --plain) is skipped, lines with fewer than
// four columns are ignored. At most `limit` services.
ServiceList parse_systemctl_units(std::string_view text, std::size_t limit);

}  // namespace rmm::agent::linux_proc
