// The control-plane side of one batch: the audit log row of every control event, the rows of the
// control-plane events (control_plane_rows.h), effective policies, and the alert engine fed with
// the batch's events in stream order. Lives inside one BatchWriter::write transaction.
//
// Order matters for determinism (a rebuild with other batch boundaries must give the same rows):
// control events are written when the loop reaches them, thresholds are re-read after any policy
// or placement change, and the alert engine sees agent events and ticks in stream order.
#pragma once

#include <map>
#include <optional>
#include <pqxx/transaction>
#include <set>
#include <span>

#include "projector/alerts/alert_rules.h"
#include "projector/db/control_rows.h"
#include "projector/folds/audit.h"
#include "projector/folds/decode.h"

namespace rmm::projector::db {

class ControlPlaneBatch {
 public:
  // `items`: the batch in stream order; `rows`: the agents rows the batch writer loaded (and
  // will fold into): read at each tick for last_seen as of the tick's position.
  ControlPlaneBatch(pqxx::work& tx, std::span<const BatchItem* const> items,
                    const std::map<AgentId, AgentRow>& rows);

  // After the agent fold applied `event`; `first` when the agent had no row before.
  void on_agent_event(pqxx::work& tx, const AgentEvent& event, StreamSeq stream_seq,
                      const std::optional<SequenceGap>& gap, bool first);
  // After the agent fold applied `event` late, filling a gap behind later events: it raises what
  // it reports itself (outbox drops, watchdog), but the threshold rules and presence, which
  // follow each agent's samples in time order, do not see it.
  void on_late_agent_event(const AgentEvent& event, StreamSeq stream_seq);
  // Every control event (tenancy and enrollment ones included), in place of
  // apply_control_event. Returns the reason when the event was refused (nothing was applied or
  // audited; the caller dead-letters it).
  std::optional<RefusedEvent> on_control_event(pqxx::work& tx, const ControlEvent& event,
                                               StreamSeq stream_seq);
  // After the agents rows are stored: effective policies and alert changes.
  void finish(pqxx::work& tx);

 private:
  void refresh_thresholds(pqxx::work& tx, const std::set<AgentId>& agents);
  // Thresholds and revocations of the batch's agents, read on first need (a batch of heartbeats
  // never needs them).
  void ensure_batch_thresholds(pqxx::work& tx);
  void on_tick(pqxx::work& tx, UnixNanos tick, StreamSeq stream_seq);
  void write_audit(pqxx::work& tx, const AuditEntry& entry, StreamSeq stream_seq);

  const std::map<AgentId, AgentRow>& rows_;
  alerts::AlertEngine engine_;
  std::map<AgentId, alerts::Thresholds> thresholds_;
  std::set<AgentId> batch_agents_;  // agents with events in this batch
  std::set<AgentId> state_loaded_;  // agents whose alert state the engine holds
  std::set<AgentId> revoked_;       // those of them revoked
  std::set<AgentId> recompute_;     // effective policies to store at finish
  bool recompute_all_ = false;
  bool batch_thresholds_loaded_ = false;
};

}  // namespace rmm::projector::db
