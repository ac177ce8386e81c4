#include "projector/db/release_rows.h"

#include <fmt/format.h>

#include "projector/db/control_plane_rows.h"
#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

constexpr std::string_view kAt = "(timestamptz 'epoch' + {} * interval '1 microsecond')";

std::string at(std::string_view param) {
  return fmt::format(kAt, param);
}

std::string agent_array(const std::vector<AgentId>& agents) {
  PgArray a;
  for (const auto& id : agents) a.add_text(id.str());
  return a.take();
}

}  // namespace

void write_control_plane_row(pqxx::work& tx, const codec::ReleasePublishedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "INSERT INTO releases (version, platform, arch, size, sha256, manifest, signature, key_id, "
      "published_by, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, {}) "
      "ON CONFLICT (version, platform, arch) DO UPDATE SET size = EXCLUDED.size, "
      "sha256 = EXCLUDED.sha256, manifest = EXCLUDED.manifest, signature = EXCLUDED.signature, "
      "key_id = EXCLUDED.key_id, published_by = EXCLUDED.published_by, "
      "published_at = EXCLUDED.published_at",
      at("$10::bigint"));
  tx.exec_params0(sql, v.version, v.platform, v.arch, static_cast<std::int64_t>(v.size), v.sha256,
                  v.manifest, v.signature, v.key_id, v.actor, ns_to_micros(t));
}

void write_control_plane_row(pqxx::work& tx, const codec::RolloutCreatedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "INSERT INTO rollouts (id, version, platform, arch, scope, scope_id, "
      "advance_healthy_percent, halt_failed_percent, status, created_by, created_at, updated_at) "
      "VALUES ($1::uuid, $2, $3, $4, $5, $6::uuid, $7, $8, 'created', $9, {0}, {0}) "
      "ON CONFLICT (id) DO NOTHING",
      at("$10::bigint"));
  tx.exec_params0(sql, v.rollout.str(), v.version, v.platform, v.arch,
                  std::string(codec::scope_name(v.scope.scope)), uuid_to_string(v.scope.id),
                  static_cast<int>(v.advance_healthy_percent),
                  static_cast<int>(v.halt_failed_percent), v.by.actor, ns_to_micros(t));
  static const std::string ring_sql =
      "INSERT INTO rollout_rings (rollout_id, ring_index, name, planned_agents, percent) "
      "VALUES ($1::uuid, $2, $3, $4::uuid[], $5) ON CONFLICT DO NOTHING";
  for (std::size_t i = 0; i < v.rings.size(); ++i) {
    const auto& r = v.rings[i];
    tx.exec_params0(ring_sql, v.rollout.str(), static_cast<int>(i), r.name, agent_array(r.agents),
                    static_cast<int>(r.percent));
  }
}

void write_control_plane_row(pqxx::work& tx, const codec::RolloutRingStartedInfo& v, UnixNanos t) {
  static const std::string ring_sql = fmt::format(
      "UPDATE rollout_rings SET agents = $3::uuid[], started_at = COALESCE(started_at, {}), "
      "excluded_by_policy = $5::uuid[], no_release_for_platform = $6::uuid[] "
      "WHERE rollout_id = $1::uuid AND ring_index = $2",
      at("$4::bigint"));
  tx.exec_params0(ring_sql, v.rollout.str(), static_cast<int>(v.ring_index), agent_array(v.agents),
                  ns_to_micros(t), agent_array(v.excluded_by_policy),
                  agent_array(v.no_release_for_platform));
  // A halted or completed rollout stays so; a later ring never moves the pointer back.
  static const std::string sql = fmt::format(
      "UPDATE rollouts SET status = 'running', current_ring = GREATEST(current_ring, $2), "
      "updated_at = {} WHERE id = $1::uuid AND status IN ('created', 'running')",
      at("$3::bigint"));
  tx.exec_params0(sql, v.rollout.str(), static_cast<int>(v.ring_index), ns_to_micros(t));
}

void write_control_plane_row(pqxx::work& tx, const codec::RolloutHaltedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "UPDATE rollouts SET status = 'halted', halted_reason = $2, updated_at = {} "
      "WHERE id = $1::uuid AND status <> 'completed'",
      at("$3::bigint"));
  tx.exec_params0(sql, v.rollout.str(), v.reason, ns_to_micros(t));
}

void write_control_plane_row(pqxx::work& tx, const codec::RolloutCompletedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "UPDATE rollouts SET status = 'completed', updated_at = {} "
      "WHERE id = $1::uuid AND status IN ('created', 'running')",
      at("$2::bigint"));
  tx.exec_params0(sql, v.rollout.str(), ns_to_micros(t));
}

void write_release_change(pqxx::work& tx, const ReleaseChange& change, UnixNanos at) {
  std::visit([&](const auto& v) { write_control_plane_row(tx, v, at); }, change);
}

void write_control_plane_row(pqxx::work& tx, const AuditOnly& v, UnixNanos at) {
  if (v.release) write_release_change(tx, *v.release, at);
}

void write_update_progress(pqxx::work& tx, const std::vector<UpdateProgressRef>& refs) {
  static const std::string sql = fmt::format(
      "INSERT INTO agent_updates (agent_id, command_id, from_version, to_version, step, reason, "
      "detail, started_at, updated_at, last_seq) "
      "VALUES ($1::uuid, $2::uuid, $3, $4, $5, $6, $7, {0}, {0}, $9) "
      "ON CONFLICT (agent_id, command_id) DO UPDATE SET step = EXCLUDED.step, "
      "reason = EXCLUDED.reason, detail = EXCLUDED.detail, updated_at = EXCLUDED.updated_at, "
      "last_seq = EXCLUDED.last_seq WHERE agent_updates.last_seq < EXCLUDED.last_seq",
      at("$8::bigint"));
  for (const auto& r : refs) {
    tx.exec_params0(sql, r.agent.str(), r.row->command.str(), r.row->from_version,
                    r.row->to_version, r.row->step, r.row->reason, r.row->detail,
                    ns_to_micros(r.at), r.seq);
  }
}

}  // namespace rmm::projector::db
