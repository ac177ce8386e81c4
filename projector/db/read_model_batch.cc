#include "projector/db/read_model_batch.h"

#include "projector/db/agent_rows.h"
#include "projector/db/sql_text.h"

namespace rmm::projector::db {

void ReadModelBatch::prepare(pqxx::connection& conn) {
  prepare_agent_statements(conn);
  prepare_metrics_statements(conn);
  prepare_state_statements(conn);
  prepare_command_statements(conn);
}

std::set<std::int64_t> ReadModelBatch::metric_days(std::span<const BatchItem> items) {
  std::set<std::int64_t> days;
  for (const auto& item : items) {
    const auto* ev = std::get_if<AgentEvent>(&item.decoded);
    if (ev != nullptr && std::holds_alternative<MetricsRows>(ev->body)) {
      days.insert(utc_day(ns_to_micros(ev->occurred_at)));
    }
  }
  return days;
}

void ReadModelBatch::add(const AgentEvent& ev, StreamSeq stream_seq) {
  const auto seq = static_cast<std::int64_t>(ev.seq.value);
  if (const auto* m = std::get_if<MetricsRows>(&ev.body)) {
    samples_.push_back({.agent = ev.agent,
                        .seq = seq,
                        .stream_seq = static_cast<std::int64_t>(stream_seq.value),
                        .at = ev.occurred_at,
                        .agent_at = ev.clamped() ? std::optional(ev.agent_time) : std::nullopt,
                        .rows = m});
  } else if (const auto* i = std::get_if<InventoryRow>(&ev.body)) {
    inventories_.push_back({.agent = ev.agent, .seq = seq, .at = ev.occurred_at, .row = i});
  } else if (const auto* d = std::get_if<OutboxDropRow>(&ev.body)) {
    drops_.push_back({.agent = ev.agent, .seq = seq, .at = ev.occurred_at, .row = d});
  } else if (const auto* c = std::get_if<CommandChange>(&ev.body)) {
    commands_.push_back({.agent = ev.agent, .change = c});
  } else if (const auto* u = std::get_if<UpdateProgressRow>(&ev.body)) {
    updates_.push_back({ev.agent, seq, ev.occurred_at, u});
  }
}

void ReadModelBatch::write(pqxx::work& tx, UnixNanos raw_from) const {
  write_metrics(tx, samples_, raw_from);
  write_inventories(tx, inventories_);
  write_outbox_drops(tx, drops_);
  write_commands(tx, commands_);
  write_update_progress(tx, updates_);
}

}  // namespace rmm::projector::db
