#include "projector/db/agent_rows.h"

#include <fmt/format.h>

#include <pqxx/result>

#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

constexpr const char* kStoreAgents = "rmm_store_agents";
constexpr const char* kStoreGaps = "rmm_store_gaps";
constexpr const char* kDeleteGaps = "rmm_delete_gaps";
constexpr const char* kLoadGaps = "rmm_load_gaps";

constexpr std::string_view kToMicros = "(extract(epoch from {}) * 1000000)::bigint";

std::string uuid_array(const std::set<AgentId>& ids) {
  PgArray a;
  for (const auto& id : ids) a.add_text(id.str());
  return a.take();
}

}  // namespace

void prepare_agent_statements(pqxx::connection& conn) {
  // A NULL micros stays NULL through the arithmetic.
  conn.prepare(
      kStoreAgents,
      "INSERT INTO agents (id, hostname, os, version, first_seen, last_seen, last_seq, "
      "last_presence_seq, events_applied, clock_offset_ms) "
      "SELECT id, hostname, os, version, "
      "timestamptz 'epoch' + first_us * interval '1 microsecond', "
      "timestamptz 'epoch' + last_us * interval '1 microsecond', "
      "last_seq, last_presence_seq, events_applied, clock_offset_ms "
      "FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bigint[], "
      "$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[]) "
      "AS u(id, hostname, os, version, first_us, last_us, last_seq, last_presence_seq, "
      "events_applied, clock_offset_ms) "
      "ON CONFLICT (id) DO UPDATE SET hostname = coalesce(EXCLUDED.hostname, agents.hostname), "
      "os = coalesce(EXCLUDED.os, agents.os), "
      "version = coalesce(EXCLUDED.version, agents.version), "
      "first_seen = coalesce(EXCLUDED.first_seen, agents.first_seen), "
      "last_seen = coalesce(EXCLUDED.last_seen, agents.last_seen), "
      "last_seq = EXCLUDED.last_seq, "
      "last_presence_seq = EXCLUDED.last_presence_seq, "
      "events_applied = EXCLUDED.events_applied, "
      "clock_offset_ms = coalesce(EXCLUDED.clock_offset_ms, agents.clock_offset_ms)");
  // A replay writes what the live fold wrote: the same rows.
  conn.prepare(kStoreGaps,
               "INSERT INTO agent_sequence_gaps AS g (agent_id, from_seq, to_seq, detected_at) "
               "SELECT agent_id, from_seq, to_seq, "
               "timestamptz 'epoch' + at_us * interval '1 microsecond' "
               "FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[]) "
               "AS u(agent_id, from_seq, to_seq, at_us) "
               "ON CONFLICT (agent_id, from_seq) DO UPDATE SET to_seq = EXCLUDED.to_seq, "
               "detected_at = EXCLUDED.detected_at");
  conn.prepare(kDeleteGaps,
               "DELETE FROM agent_sequence_gaps g USING unnest($1::uuid[], $2::bigint[]) "
               "AS u(agent_id, from_seq) WHERE g.agent_id = u.agent_id AND "
               "g.from_seq = u.from_seq");
  conn.prepare(kLoadGaps,
               "SELECT DISTINCT g.agent_id::text, g.from_seq, g.to_seq, "
               "(extract(epoch from g.detected_at) * 1000000)::bigint "
               "FROM agent_sequence_gaps g JOIN unnest($1::uuid[], $2::bigint[]) AS u(agent_id, "
               "seq) ON g.agent_id = u.agent_id AND u.seq BETWEEN g.from_seq AND g.to_seq");
}

void load_agent_rows(pqxx::work& tx, const std::set<AgentId>& ids,
                     std::map<AgentId, AgentRow>& rows) {
  static const std::string sql = fmt::format(
      "SELECT id, hostname, os, version, {}, {}, last_seq, events_applied, last_presence_seq, "
      "clock_offset_ms "
      "FROM agents WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
      fmt::format(kToMicros, "first_seen"), fmt::format(kToMicros, "last_seen"));
  for (const auto& r : tx.exec_params(sql, uuid_array(ids))) {
    auto id = AgentId::parse(r[0].as<std::string>());
    if (!id) continue;  // PostgreSQL's uuid text form is canonical; cannot happen
    AgentRow row{.id = *id, .exists = true};
    if (!r[1].is_null()) row.hostname = r[1].as<std::string>();
    if (!r[2].is_null()) row.os = r[2].as<std::string>();
    if (!r[3].is_null()) row.version = r[3].as<std::string>();
    if (!r[4].is_null()) row.first_seen = r[4].as<std::int64_t>() * 1000;
    if (!r[5].is_null()) row.last_seen = r[5].as<std::int64_t>() * 1000;
    row.last_seq = r[6].as<std::int64_t>();
    row.events_applied = r[7].as<std::int64_t>();
    row.last_presence_seq = r[8].as<std::int64_t>();
    if (!r[9].is_null()) row.clock_offset_ms = r[9].as<std::int64_t>();
    rows[*id] = std::move(row);
  }
}

void store_agent_rows(pqxx::work& tx, const std::map<AgentId, AgentRow>& rows,
                      const std::set<AgentId>& changed) {
  if (changed.empty()) return;
  PgArray ids, hostnames, oses, versions, first, last, seqs, presence, applied, offsets;
  for (const auto& id : changed) {
    const auto& row = rows.at(id);
    ids.add_text(row.id.str());
    hostnames.add_optional_text(row.hostname);
    oses.add_optional_text(row.os);
    versions.add_optional_text(row.version);
    first.add_optional(row.first_seen ? std::optional(ns_to_micros(*row.first_seen))
                                      : std::nullopt);
    last.add_optional(row.last_seen ? std::optional(ns_to_micros(*row.last_seen)) : std::nullopt);
    seqs.add(row.last_seq);
    presence.add(row.last_presence_seq);
    applied.add(row.events_applied);
    offsets.add_optional(row.clock_offset_ms);
  }
  tx.exec_prepared0(kStoreAgents, ids.take(), hostnames.take(), oses.take(), versions.take(),
                    first.take(), last.take(), seqs.take(), presence.take(), applied.take(),
                    offsets.take());
}

std::map<AgentId, OpenGaps> load_open_gaps(pqxx::work& tx, const std::vector<LateEvent>& late) {
  std::map<AgentId, OpenGaps> out;
  if (late.empty()) return out;
  PgArray agents, seqs;
  for (const auto& e : late) {
    agents.add_text(e.agent.str());
    seqs.add(e.seq);
  }
  for (const auto& r : tx.exec_prepared(kLoadGaps, agents.take(), seqs.take())) {
    auto id = AgentId::parse(r[0].as<std::string>());
    if (!id) continue;  // PostgreSQL's uuid text form is canonical; cannot happen
    SequenceGap gap{.agent = *id,
                    .from_seq = r[1].as<std::int64_t>(),
                    .to_seq = r[2].as<std::int64_t>(),
                    .detected_at = r[3].as<std::int64_t>() * 1000};
    out[*id].emplace(gap.from_seq, gap);
  }
  return out;
}

void store_gap_changes(pqxx::work& tx, const std::map<AgentId, OpenGaps>& before,
                       const std::map<AgentId, OpenGaps>& after) {
  static const OpenGaps kNone;
  auto of = [](const std::map<AgentId, OpenGaps>& m, const AgentId& a) -> const OpenGaps& {
    auto it = m.find(a);
    return it == m.end() ? kNone : it->second;
  };
  PgArray del_agents, del_from;
  PgArray agents, from, to, at;
  bool any_delete = false, any_store = false;
  for (const auto& [agent, old_gaps] : before) {
    const auto& now = of(after, agent);
    for (const auto& [f, gap] : old_gaps) {
      if (now.contains(f)) continue;  // kept or replaced by an upsert below
      del_agents.add_text(agent.str());
      del_from.add(f);
      any_delete = true;
    }
  }
  for (const auto& [agent, new_gaps] : after) {
    const auto& old_gaps = of(before, agent);
    for (const auto& [f, gap] : new_gaps) {
      auto it = old_gaps.find(f);
      if (it != old_gaps.end() && it->second == gap) continue;  // unchanged
      agents.add_text(agent.str());
      from.add(gap.from_seq);
      to.add(gap.to_seq);
      at.add(ns_to_micros(gap.detected_at));
      any_store = true;
    }
  }
  if (any_delete) tx.exec_prepared0(kDeleteGaps, del_agents.take(), del_from.take());
  if (any_store) tx.exec_prepared0(kStoreGaps, agents.take(), from.take(), to.take(), at.take());
}

}  // namespace rmm::projector::db
