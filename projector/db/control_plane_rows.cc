#include "projector/db/control_plane_rows.h"

#include <fmt/format.h>

#include "common/log.h"
#include "projector/db/policy_store.h"
#include "projector/db/sql_text.h"

namespace rmm::projector::db {
namespace {

// Event time crosses as integer microseconds.
std::string at(std::string_view param) {
  return fmt::format("(timestamptz 'epoch' + {} * interval '1 microsecond')", param);
}

void replace_scopes(pqxx::work& tx, const UserId& user,
                    const std::vector<codec::ScopeRef>& scopes) {
  PgArray scope, id;
  for (const auto& s : scopes) {
    scope.add_text(codec::scope_name(s.scope));
    id.add_text(uuid_to_string(s.id));
  }
  tx.exec_params0("DELETE FROM user_scopes WHERE user_id = $1::uuid", user.str());
  tx.exec_params0(
      "INSERT INTO user_scopes (user_id, scope, scope_id) "
      "SELECT $1::uuid, s, i FROM unnest($2::text[], $3::uuid[]) AS u(s, i) "
      "WHERE EXISTS (SELECT 1 FROM users WHERE id = $1::uuid) ON CONFLICT DO NOTHING",
      user.str(), scope.take(), id.take());
}

}  // namespace

void write_control_plane_row(pqxx::work& tx, const codec::ClientRenamedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "UPDATE clients SET name = $2, updated_at = {} WHERE id = $1::uuid", at("$3::bigint"));
  tx.exec_params0(sql, v.client.str(), v.name, ns_to_micros(t));
}

void write_control_plane_row(pqxx::work& tx, const codec::ClientDeletedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "UPDATE clients SET deleted_at = COALESCE(deleted_at, {0}), updated_at = {0} "
      "WHERE id = $1::uuid",
      at("$2::bigint"));
  tx.exec_params0(sql, v.client.str(), ns_to_micros(t));
}

void write_control_plane_row(pqxx::work& tx, const codec::SiteRenamedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "UPDATE sites SET name = $2, updated_at = {} WHERE id = $1::uuid", at("$3::bigint"));
  tx.exec_params0(sql, v.site.str(), v.name, ns_to_micros(t));
}

void write_control_plane_row(pqxx::work& tx, const codec::SiteDeletedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "UPDATE sites SET deleted_at = COALESCE(deleted_at, {0}), updated_at = {0} "
      "WHERE id = $1::uuid",
      at("$2::bigint"));
  tx.exec_params0(sql, v.site.str(), ns_to_micros(t));
}

void write_control_plane_row(pqxx::work& tx, const codec::PolicySetInfo& v, UnixNanos t) {
  write_policy(tx, v, t);
}

void write_control_plane_row(pqxx::work& tx, const codec::UserCreatedInfo& v, UnixNanos t) {
  // A username already taken by another id (two API instances racing) must not stop the
  // projector: the second user is not created, and the conflict is logged.
  static const std::string sql = fmt::format(
      "INSERT INTO users (id, username, display_name, role, created_by, created_at, updated_at) "
      "SELECT $1::uuid, $2, $3, $4, $5, {0}, {0} "
      "WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = $2 AND id <> $1::uuid) "
      "ON CONFLICT (id) DO NOTHING RETURNING id",
      at("$6::bigint"));
  auto r = tx.exec_params(sql, v.user.str(), v.username, v.display_name,
                          std::string(codec::role_name(v.role)), v.by.actor, ns_to_micros(t));
  if (r.empty()) {
    auto exists = tx.exec_params("SELECT 1 FROM users WHERE id = $1::uuid", v.user.str());
    if (exists.empty()) {
      log::warn("user.username_taken", {{"user", v.user.str()}, {"username", v.username}});
      return;
    }
  }
  replace_scopes(tx, v.user, v.scopes);
}

void write_control_plane_row(pqxx::work& tx, const codec::UserUpdatedInfo& v, UnixNanos t) {
  static const std::string sql =
      fmt::format("UPDATE users SET role = $2, disabled = $3, updated_at = {} WHERE id = $1::uuid",
                  at("$4::bigint"));
  tx.exec_params0(sql, v.user.str(), std::string(codec::role_name(v.role)), v.disabled,
                  ns_to_micros(t));
  replace_scopes(tx, v.user, v.scopes);
}

void write_control_plane_row(pqxx::work& tx, const codec::CommandIssuedInfo& v, UnixNanos t) {
  static const std::string sql = fmt::format(
      "INSERT INTO commands AS c (id, agent_id, status, kind, issuer, issued_at, summary, "
      "timeout_ms, expires_at, impersonator, last_seq, updated_at, batch_id) "
      "VALUES ($1::uuid, $2::uuid, 'queued', NULLIF($3, ''), $4, {0}, $5, $6, "
      "CASE WHEN $7::bigint > 0 THEN {1} END, NULLIF($8, ''), 0, {0}, $10::uuid) "
      "ON CONFLICT (id) DO UPDATE SET "
      "status = CASE WHEN rmm_command_rank(c.status) < rmm_command_rank('queued') "
      "THEN 'queued' ELSE c.status END, "
      "kind = COALESCE(c.kind, EXCLUDED.kind), issuer = EXCLUDED.issuer, "
      "issued_at = COALESCE(c.issued_at, EXCLUDED.issued_at), "
      "summary = COALESCE(c.summary, EXCLUDED.summary), "
      "timeout_ms = COALESCE(c.timeout_ms, EXCLUDED.timeout_ms), "
      "expires_at = COALESCE(c.expires_at, EXCLUDED.expires_at), "
      "impersonator = COALESCE(c.impersonator, EXCLUDED.impersonator), "
      "batch_id = COALESCE(c.batch_id, EXCLUDED.batch_id) "
      "WHERE c.agent_id = EXCLUDED.agent_id",
      at("$9::bigint"), at("($7::bigint / 1000)"));
  std::optional<std::string> batch;
  if (v.batch != UuidBytes{}) batch = uuid_to_string(v.batch);
  tx.exec_params0(sql, v.command.str(), v.agent.str(), v.kind, v.by.actor, v.summary,
                  static_cast<std::int64_t>(v.timeout_ms), v.expires_at, v.by.impersonator,
                  ns_to_micros(t), batch);
}

void write_control_plane_row(pqxx::work& tx, const codec::CommandCancelRequestedInfo& v,
                             UnixNanos t) {
  static const std::string sql = fmt::format(
      "INSERT INTO commands AS c (id, agent_id, status, cancel_requested_at, last_seq, "
      "updated_at) VALUES ($1::uuid, $2::uuid, 'unknown', {0}, 0, {0}) "
      "ON CONFLICT (id) DO UPDATE SET "
      "cancel_requested_at = COALESCE(c.cancel_requested_at, EXCLUDED.cancel_requested_at) "
      "WHERE c.agent_id = EXCLUDED.agent_id",
      at("$3::bigint"));
  tx.exec_params0(sql, v.command.str(), v.agent.str(), ns_to_micros(t));
}

}  // namespace rmm::projector::db
