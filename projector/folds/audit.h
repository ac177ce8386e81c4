// The audit_log row of a control event (who, on whose behalf, what, on what), as a pure function.
// client_id and site_id are given when the event names them; otherwise the writer resolves them
// from the hints (the agent's site, the alert's agent, the enrollment code's site) in SQL.
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "common/ids.h"
#include "projector/folds/control_fold.h"

namespace rmm::projector {

struct AuditEntry {
  UnixNanos occurred_at = 0;
  std::string actor, impersonator;  // impersonator empty: none
  std::string action;               // the control event's type token
  std::string target_kind, target_id;
  std::optional<UuidBytes> client, site;
  // Resolution hints for client/site when the event does not name them.
  std::optional<UuidBytes> agent, alert, enrollment_code;
  std::string detail;  // a JSON object of the event's non-secret fields
};

// nullopt for ClockTick: the ticker's heartbeat is no one's action (one row per 15 s would drown
// the log).
std::optional<AuditEntry> audit_entry(const ControlEvent& event);

}  // namespace rmm::projector
