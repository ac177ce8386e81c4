// The core projection's fold over control-plane events (tenancy and enrollment), as a pure
// function: verified Envelope + parsed subject -> ControlEvent (the typed change), which
// db/control_rows.h writes. Every string is already storable and bounded.
//
// Control events come from trusted services (only the services user may publish on rmm.ctl.>),
// but are still checked like any input: source kind, type token vs payload, ids, hash formats.
// Their folds are idempotent upserts keyed by ids, so a re-send beyond the dedupe window is
// harmless without a per-source sequence check.
#pragma once

#include <optional>
#include <variant>

#include "common/clock.h"
#include "common/control_events.h"
#include "common/control_plane_events.h"
#include "common/result.h"
#include "events_generated.h"
#include "projector/folds/release_fold.h"
#include "projector/folds/subject.h"

namespace rmm::projector {

// A control event this projection keeps only in the audit log (releases and rollouts, until
// their own read models fold them).
struct AuditOnly {
  std::string actor, impersonator;  // actor empty: the publishing service
  std::string target_kind, target_id;
  std::string detail;  // a JSON object
  // Releases and rollouts: what their read models fold (projector/db/release_rows.h).
  std::optional<ReleaseChange> release;
};

struct ControlEvent {
  using Change =
      std::variant<codec::ClientCreatedInfo, codec::SiteCreatedInfo,
                   codec::EnrollmentCodeCreatedInfo, codec::EnrollmentCodeRevokedInfo,
                   codec::AgentEnrolledInfo, codec::CloneSuspectedInfo, codec::AgentRevokedInfo,
                   codec::ClientRenamedInfo, codec::ClientDeletedInfo, codec::SiteRenamedInfo,
                   codec::SiteDeletedInfo, codec::PolicySetInfo, codec::AlertAcknowledgedInfo,
                   codec::AlertResolvedInfo, codec::AlertSuppressedInfo, codec::ClockTickInfo,
                   codec::UserCreatedInfo, codec::UserUpdatedInfo, codec::CommandIssuedInfo,
                   codec::CommandCancelRequestedInfo, codec::AgentMovedInfo, AuditOnly>;
  UnixNanos occurred_at = 0;
  Change change;
  std::string source_name;  // the publishing service ("api", "admin", ...): audit actor fallback
  schema::Payload type = schema::Payload::NONE;
};

// Whether this build folds the control event type token (others are ignored, not dead-lettered:
// they belong to projections or builds that know them).
bool is_folded_control_token(std::string_view token);

// An error is a dead-letter reason.
Result<ControlEvent> to_control_event(const schema::Envelope& env, const EventSubject& subject);

}  // namespace rmm::projector
