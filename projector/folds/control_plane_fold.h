// Decoding of the control-plane events of the projector and API issues (renames and deletes,
// policies, alert handling, clock ticks, users, issued commands) into the typed changes of
// ControlEvent (control_fold.h). Pure; every string bounded and storable. An error is a dead-letter
// reason.
#pragma once

#include "common/result.h"
#include "events_generated.h"
#include "projector/folds/control_fold.h"

namespace rmm::projector {

// Bounds on what a control event may carry; beyond them the event is dead-lettered.
inline constexpr std::size_t kMaxPolicyValues = 200;
inline constexpr std::size_t kMaxPolicyKeyChars = 100;
inline constexpr std::size_t kMaxPolicyValueChars = 1000;
inline constexpr std::size_t kMaxUserScopes = 1000;
inline constexpr std::size_t kMaxNoteChars = 1000;
inline constexpr std::size_t kMaxSummaryChars = 2000;

// ClientRenamed ... CommandCancelRequested, AgentMoved, and the release and rollout events as
// AuditOnly changes.
Result<ControlEvent::Change> decode_control_plane_change(const schema::Envelope& env);

}  // namespace rmm::projector
