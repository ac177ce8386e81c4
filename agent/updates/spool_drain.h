// Moves the events that rmm-updater and rmm-watchdog spooled (common/update_events.h) into the
// agent's outbox, where they get the agent's next sequence. Called from the main loop.
#pragma once

#include <filesystem>

#include "agent/outbox/outbox.h"
#include "common/clock.h"
#include "common/ids.h"

namespace rmm::agent::updates {

// Returns how many events were moved. A spool file is deleted only after its append succeeded;
// a crash between the two sends the event twice (at two sequences), which is harmless for
// progress reports. Unreadable files are logged and deleted.
std::size_t drain_spool(const std::filesystem::path& state_dir, Outbox& outbox,
                        const AgentId& agent, const Clock& clock);

}  // namespace rmm::agent::updates
