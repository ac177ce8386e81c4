// The folds of the release and rollout events (issue 7): ReleasePublished and Rollout* control
// events into their codec values, and UpdateProgress agent events into an `agent_updates` row
// change. Pure functions; strings bounded and storable.
// The control events reach the core projection as AuditOnly (audit log) carrying the
// ReleaseChange, which db/release_rows.h writes.
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
