// The agent events of the updater and the watchdog (UpdateProgress, WatchdogAlert), and the spool
// through which those helper processes hand them to the agent.
//
// Why a spool: the projector applies an agent's ordered events by their per-agent sequence, which
// only the agent's outbox assigns. rmm-updater and rmm-watchdog therefore never publish; they
// write each event as a small JSON file in `<state dir>/spool/` (temp file, fsync, rename: a crash
// leaves it whole or absent), and the agent's main loop appends the spooled events to its outbox,
// where they get their sequence, survive outages and are published like any other event.
//
// Concurrency: writers and the draining agent may run at once; a file is only visible once
// renamed into place, and the agent deletes it only after the outbox append succeeded.
// Limitations: events spooled while no agent can run (a crash loop) wait for the next agent that
// runs long enough to drain them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <variant>
#include <vector>

#include "common/event_codec.h"
#include "common/ids.h"
#include "common/result.h"

namespace rmm::codec {

struct UpdateProgressInfo {
  CommandId command;
  std::string from_version;
  std::string to_version;
  schema::UpdateStep step = schema::UpdateStep::Started;
  std::string reason;  // Refused, RolledBack, Failed: "bad_signature", "downgrade", ...
  std::string detail;
};

struct WatchdogAlertInfo {
  schema::WatchdogAlertKind kind = schema::WatchdogAlertKind::Restarted;
  std::uint32_t restarts = 0;
  std::uint32_t window_s = 0;
  std::string detail;
  std::uint64_t rss_bytes = 0;
  float cpu_percent = 0;
};

std::vector<std::uint8_t> build_update_progress(const AgentEventHeader& h,
                                                const UpdateProgressInfo& v);
std::vector<std::uint8_t> build_watchdog_alert(const AgentEventHeader& h,
                                               const WatchdogAlertInfo& v);

std::string_view update_step_name(schema::UpdateStep step);  // "started", "refused", ...
std::string_view watchdog_alert_name(schema::WatchdogAlertKind kind);

}  // namespace rmm::codec

namespace rmm::spool {

using SpooledEvent = std::variant<codec::UpdateProgressInfo, codec::WatchdogAlertInfo>;

// One spooled event and when it happened (the helper's clock).
struct SpoolEntry {
  std::filesystem::path file;
  UnixNanos occurred_at = 0;
  SpooledEvent event;
};

std::filesystem::path spool_dir(const std::filesystem::path& state_dir);

// Writes the event durably into `<state dir>/spool/` (created 0700 if missing).
Status write(const std::filesystem::path& state_dir, const SpooledEvent& event,
             UnixNanos occurred_at);

// The spooled events, oldest first (by file name, which starts with the time). Files that do not
// parse are reported in `bad` (the caller logs and removes them), never returned.
Result<std::vector<SpoolEntry>> list(const std::filesystem::path& state_dir,
                                     std::vector<std::filesystem::path>* bad = nullptr);

// The envelope of a spooled event for the sequence the outbox assigned.
std::vector<std::uint8_t> build(const SpoolEntry& entry, const codec::AgentEventHeader& h);
schema::Payload payload_type(const SpooledEvent& event);

}  // namespace rmm::spool
