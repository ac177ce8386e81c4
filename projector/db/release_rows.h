// Writing the release, rollout and agent update read models (migration 0005): one overload per
// control event (the shape of control_plane_rows.h; the AuditOnly overload declared there calls
// write_release_change), and the UpdateProgress rows of a batch.
#pragma once

#include <pqxx/transaction>
#include <vector>

#include "common/clock.h"
#include "common/control_plane_events.h"
#include "projector/folds/release_fold.h"

namespace rmm::projector::db {

void write_control_plane_row(pqxx::work& tx, const codec::ReleasePublishedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::RolloutCreatedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::RolloutRingStartedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::RolloutHaltedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::RolloutCompletedInfo& v, UnixNanos at);

void write_release_change(pqxx::work& tx, const ReleaseChange& change, UnixNanos at);

struct UpdateProgressRef {
  AgentId agent;
  std::int64_t seq = 0;
  UnixNanos at = 0;
  const UpdateProgressRow* row = nullptr;
};

// In stream order; a step older (by agent sequence) than the stored one is ignored.
void write_update_progress(pqxx::work& tx, const std::vector<UpdateProgressRef>& refs);

}  // namespace rmm::projector::db
