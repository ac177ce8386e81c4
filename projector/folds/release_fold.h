// The folds of the release and rollout events (issue 7): ReleasePublished and Rollout* control
// events into their codec values, and UpdateProgress agent events into an `agent_updates` row
// change. Pure functions; strings bounded and storable.
//
// Not yet wired into the core projection's control fold (projector/folds/control_fold.cc keeps
// these events in the audit log only, as AuditOnly): docs/updates.md says how.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/control_plane_events.h"
#include "common/ids.h"
#include "common/result.h"
#include "events_generated.h"

namespace rmm::projector {

// True for ReleasePublished and RolloutCreated ... RolloutCompleted.
bool is_release_payload(schema::Payload type);
using ReleaseChange = std::variant<codec::ReleasePublishedInfo, codec::RolloutCreatedInfo,
                                   codec::RolloutRingStartedInfo, codec::RolloutHaltedInfo,
                                   codec::RolloutCompletedInfo>;
// For a verified envelope whose payload type is_release_payload(); an error is a dead letter.
Result<ReleaseChange> decode_release_change(const schema::Envelope& env);

// What an UpdateProgress event changes in `agent_updates`.
struct UpdateProgressRow {
  CommandId command;
  std::string from_version, to_version;
  std::string step;  // codec::update_step_name
  std::string reason, detail;
  bool operator==(const UpdateProgressRow&) const = default;
};

Result<UpdateProgressRow> update_progress_row(const schema::UpdateProgress& p);

}  // namespace rmm::projector
