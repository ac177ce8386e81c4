// The rows of the control-plane events of projector/folds/control_plane_fold.h that are plain
// upserts: tenancy renames and deletes, users and their scopes, policies, commands issued through
// the API. Alert handling and clock ticks go through the alert engine (control_plane_batch.h),
// so their overloads here write nothing. Idempotent: a re-applied event changes nothing.
// Throws what libpqxx throws.
#pragma once

#include <pqxx/transaction>

#include "common/control_plane_events.h"
#include "projector/folds/control_fold.h"

namespace rmm::projector::db {

void write_control_plane_row(pqxx::work& tx, const codec::ClientRenamedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::ClientDeletedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::SiteRenamedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::SiteDeletedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::PolicySetInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::UserCreatedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::UserUpdatedInfo& v, UnixNanos at);
// The commands row as 'queued' unless the agent already reported further (rmm_command_rank);
// issuer becomes the actor whichever order the events arrive in.
void write_control_plane_row(pqxx::work& tx, const codec::CommandIssuedInfo& v, UnixNanos at);
void write_control_plane_row(pqxx::work& tx, const codec::CommandCancelRequestedInfo& v,
                             UnixNanos at);
inline void write_control_plane_row(pqxx::work&, const codec::AlertAcknowledgedInfo&, UnixNanos) {}
inline void write_control_plane_row(pqxx::work&, const codec::AlertResolvedInfo&, UnixNanos) {}
inline void write_control_plane_row(pqxx::work&, const codec::AlertSuppressedInfo&, UnixNanos) {}
inline void write_control_plane_row(pqxx::work&, const codec::ClockTickInfo&, UnixNanos) {}
// Releases and rollouts: their read models (projector/db/release_rows.cc).
void write_control_plane_row(pqxx::work& tx, const AuditOnly& v, UnixNanos at);

}  // namespace rmm::projector::db
