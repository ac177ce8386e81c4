#include "projector/db/control_plane_batch.h"

#include <fmt/format.h>

#include <pqxx/result>

#include "projector/db/alert_store.h"
#include "projector/db/control_rows.h"
#include "projector/db/policy_store.h"
#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

std::optional<std::string> uuid_text(const std::optional<UuidBytes>& id) {
  if (!id) return std::nullopt;
  return uuid_to_string(*id);
}

}  // namespace

ControlPlaneBatch::ControlPlaneBatch(pqxx::work& tx, std::span<const BatchItem* const> items,
                                     const std::map<AgentId, AgentRow>& rows)
    : rows_(rows) {
  std::set<AlertId> named;
  for (const auto* item : items) {
    if (const auto* ev = std::get_if<AgentEvent>(&item->decoded)) {
      batch_agents_.insert(ev->agent);
    } else if (const auto* ce = std::get_if<ControlEvent>(&item->decoded)) {
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, codec::AlertAcknowledgedInfo> ||
                          std::is_same_v<T, codec::AlertResolvedInfo> ||
                          std::is_same_v<T, codec::AlertSuppressedInfo>) {
              named.insert(v.alert);
            }
          },
          ce->change);
    }
  }
  if (batch_agents_.empty() && named.empty()) return;
  load_alert_state(tx, batch_agents_, named, engine_);
  state_loaded_ = batch_agents_;
  for (const auto& id : named) {
    if (auto agent = engine_.agent_of(id)) state_loaded_.insert(*agent);
  }
}

void ControlPlaneBatch::ensure_batch_thresholds(pqxx::work& tx) {
  if (batch_thresholds_loaded_) return;
  batch_thresholds_loaded_ = true;
  std::set<AgentId> revoked;
  for (const auto& [agent, effective] : compute_effective(tx, batch_agents_, &revoked)) {
    thresholds_[agent] = alerts::thresholds_from(effective);
  }
  revoked_.insert(revoked.begin(), revoked.end());
}

void ControlPlaneBatch::refresh_thresholds(pqxx::work& tx, const std::set<AgentId>& agents) {
  for (const auto& [agent, effective] : compute_effective(tx, agents)) {
    thresholds_[agent] = alerts::thresholds_from(effective);
  }
}

void ControlPlaneBatch::on_agent_event(pqxx::work& tx, const AgentEvent& ev, StreamSeq stream_seq,
                                       const std::optional<SequenceGap>& gap, bool first) {
  if (first) recompute_.insert(ev.agent);
  if (std::holds_alternative<MetricsRows>(ev.body)) ensure_batch_thresholds(tx);
  const auto& t = thresholds_[ev.agent];
  if (gap) engine_.on_gap(ev.agent, stream_seq, ev.occurred_at, gap->from_seq, gap->to_seq);
  if (ev.type == schema::Payload::Heartbeat || ev.type == schema::Payload::AgentStarted) {
    engine_.on_presence(ev.agent, ev.occurred_at);
  }
  if (const auto* m = std::get_if<MetricsRows>(&ev.body)) {
    engine_.on_metrics(ev.agent, stream_seq, ev.occurred_at, *m, t);
  } else if (const auto* d = std::get_if<OutboxDropRow>(&ev.body)) {
    engine_.on_outbox_dropped(ev.agent, stream_seq, ev.occurred_at, *d);
  } else if (const auto* w = std::get_if<WatchdogRow>(&ev.body)) {
    engine_.on_watchdog(ev.agent, stream_seq, ev.occurred_at, *w);
  }
}

void ControlPlaneBatch::on_late_agent_event(const AgentEvent& ev, StreamSeq stream_seq) {
  if (const auto* d = std::get_if<OutboxDropRow>(&ev.body)) {
    engine_.on_outbox_dropped(ev.agent, stream_seq, ev.occurred_at, *d);
  } else if (const auto* w = std::get_if<WatchdogRow>(&ev.body)) {
    engine_.on_watchdog(ev.agent, stream_seq, ev.occurred_at, *w);
  }
}

void ControlPlaneBatch::on_tick(pqxx::work& tx, UnixNanos tick, StreamSeq stream_seq) {
  ensure_batch_thresholds(tx);  // revocations of the batch's agents too
  // Agents of this batch: their last_seen as folded up to the tick's position.
  for (const auto& agent : batch_agents_) {
    if (revoked_.contains(agent)) continue;
    auto it = rows_.find(agent);
    if (it == rows_.end() || !it->second.exists) continue;
    engine_.on_tick(agent, stream_seq, tick, it->second.last_seen, thresholds_[agent]);
  }
  // Every other agent: the stored row is current.
  auto candidates = tick_candidates(tx, tick, batch_agents_);
  std::set<AgentId> unloaded, no_thresholds;
  for (const auto& c : candidates) {
    if (!state_loaded_.contains(c.agent)) unloaded.insert(c.agent);
    if (!thresholds_.contains(c.agent)) no_thresholds.insert(c.agent);
  }
  if (!unloaded.empty()) {
    load_alert_state(tx, unloaded, {}, engine_);
    state_loaded_.insert(unloaded.begin(), unloaded.end());
  }
  if (!no_thresholds.empty()) refresh_thresholds(tx, no_thresholds);
  for (const auto& c : candidates) {
    engine_.on_tick(c.agent, stream_seq, tick, c.last_seen, thresholds_[c.agent]);
  }
}

std::optional<RefusedEvent> ControlPlaneBatch::on_control_event(pqxx::work& tx,
                                                                const ControlEvent& event,
                                                                StreamSeq stream_seq) {
  if (auto refused = apply_control_event(tx, event, stream_seq)) return refused;
  auto audit = audit_entry(event);
  if (audit && audit->alert && !audit->agent) {
    if (auto agent = engine_.agent_of(AlertId(*audit->alert))) audit->agent = agent->bytes();
  }
  if (audit) write_audit(tx, *audit, stream_seq);

  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, codec::PolicySetInfo>) {
          if (v.scope.scope == schema::PolicyScope::Global) {
            recompute_all_ = true;
          } else {
            auto affected = agents_in_scope(tx, v.scope);
            recompute_.insert(affected.begin(), affected.end());
          }
          std::set<AgentId> cached;
          for (const auto& [agent, t] : thresholds_) cached.insert(agent);
          refresh_thresholds(tx, cached);
        } else if constexpr (std::is_same_v<T, codec::AgentEnrolledInfo>) {
          recompute_.insert(v.agent);
          if (thresholds_.contains(v.agent)) refresh_thresholds(tx, {v.agent});
        } else if constexpr (std::is_same_v<T, codec::AgentMovedInfo>) {
          // Another site: other site and client policies apply.
          recompute_.insert(v.agent);
          if (thresholds_.contains(v.agent)) refresh_thresholds(tx, {v.agent});
        } else if constexpr (std::is_same_v<T, codec::AgentRevokedInfo>) {
          revoked_.insert(v.agent);
        } else if constexpr (std::is_same_v<T, codec::AlertAcknowledgedInfo>) {
          engine_.acknowledge(v, event.occurred_at);
        } else if constexpr (std::is_same_v<T, codec::AlertResolvedInfo>) {
          engine_.resolve(v, event.occurred_at);
        } else if constexpr (std::is_same_v<T, codec::AlertSuppressedInfo>) {
          engine_.suppress(v, event.occurred_at);
        } else if constexpr (std::is_same_v<T, codec::ClockTickInfo>) {
          on_tick(tx, v.tick, stream_seq);
        }
      },
      event.change);
  return std::nullopt;
}

void ControlPlaneBatch::write_audit(pqxx::work& tx, const AuditEntry& e, StreamSeq stream_seq) {
  // client/site resolved as of the event's position: the agent's site (an alert's agent, an
  // enrollment code's site) and that site's client.
  static const std::string sql =
      "INSERT INTO audit_log (stream_seq, occurred_at, actor, impersonator, action, target_kind, "
      "target_id, client_id, site_id, detail) "
      "SELECT $1, timestamptz 'epoch' + $2 * interval '1 microsecond', $3, NULLIF($4, ''), $5, "
      "$6, NULLIF($7, ''), COALESCE($8::uuid, (SELECT s.client_id FROM sites s WHERE s.id = "
      "r.site)), r.site, $13::jsonb FROM (SELECT COALESCE($9::uuid, (SELECT a.site_id FROM agents "
      "a WHERE a.id = $10::uuid), (SELECT c.site_id FROM enrollment_codes c WHERE c.id = "
      "$12::uuid), (SELECT a.site_id FROM alerts al JOIN agents a ON a.id = al.agent_id WHERE "
      "al.id = $11::uuid)) AS site) r ON CONFLICT (stream_seq) DO NOTHING";
  tx.exec_params0(sql, static_cast<std::int64_t>(stream_seq.value), ns_to_micros(e.occurred_at),
                  e.actor, e.impersonator, e.action, e.target_kind, e.target_id,
                  uuid_text(e.client), uuid_text(e.site), uuid_text(e.agent), uuid_text(e.alert),
                  uuid_text(e.enrollment_code), e.detail);
}

void ControlPlaneBatch::finish(pqxx::work& tx) {
  if (recompute_all_) {
    for (const auto& r : tx.exec("SELECT id FROM agents")) {
      if (auto id = AgentId::parse(r[0].c_str())) recompute_.insert(*id);
    }
  }
  if (!recompute_.empty()) store_effective(tx, compute_effective(tx, recompute_));
  write_alert_changes(tx, engine_);
}

}  // namespace rmm::projector::db
