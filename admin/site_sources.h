// Which sites' RMM_SITE_EVENTS the hub's RMM_EVENTS sources (admin/leaf_config.h). The list
// lives in the stream's own config on the hub, not in a file: `rmm-admin apply-streams` keeps
// the sources a stream has when its definition names none.
//
// Concurrency: uses the given connection from the calling thread only; two concurrent changes
// of the list may lose one (read, then update): run them from one place.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rmm::broker {

enum class SiteSourceChange { kAdded, kRemoved, kUnchanged };

// Adds (or with `present` false removes) the site's source on RMM_EVENTS. Removing it stops the
// copy; the site's stream keeps its events, and adding it again resumes after the last one the
// hub holds.
Result<SiteSourceChange> set_site_source(natsConnection* nc, std::string_view site, bool present,
                                         std::chrono::milliseconds timeout);

// The sites RMM_EVENTS sources now.
Result<std::vector<std::string>> site_sources(natsConnection* nc,
                                              std::chrono::milliseconds timeout);

}  // namespace rmm::broker
