#include "projector/db/control_rows.h"

#include <fmt/format.h>

#include <optional>
#include <string>

#include "common/log.h"
#include "projector/db/control_plane_rows.h"

namespace rmm::projector::db {
namespace {

// Event time crosses as integer microseconds, like the agent rows.
constexpr std::string_view kAt = "(timestamptz 'epoch' + {} * interval '1 microsecond')";

std::int64_t micros(UnixNanos ns) {
  return ns >= 0 ? ns / 1000 : -((-ns + 999) / 1000);
}

std::string at(std::string_view param) {
  return fmt::format(kAt, param);
}

std::string text_array(const std::vector<std::string>& items) {
  // Only NKey user keys reach here (base32): no quoting needed.
  std::string out = "{";
  for (const auto& s : items) {
    if (out.size() > 1) out += ',';
    out += s;
  }
  return out + "}";
}

struct Apply {
  pqxx::work& tx;
  std::int64_t when;  // event time, microseconds
  StreamSeq stream_seq;
  UnixNanos event_at;
  std::optional<RefusedEvent>* refusal;  // set when the event must not be applied

  void operator()(const codec::ClientCreatedInfo& v) const {
    static const std::string sql = fmt::format(
        "INSERT INTO clients (id, partner_id, name, created_by, created_at) "
        "VALUES ($1::uuid, $2::uuid, $3, $4, {}) ON CONFLICT DO NOTHING",
        at("$5::bigint"));
    tx.exec_params0(sql, v.client.str(), v.partner.str(), v.name, v.created_by, when);
  }

  void operator()(const codec::SiteCreatedInfo& v) const {
    static const std::string sql = fmt::format(
        "INSERT INTO sites (id, client_id, name, created_by, created_at) "
        "VALUES ($1::uuid, $2::uuid, $3, $4, {}) ON CONFLICT DO NOTHING",
        at("$5::bigint"));
    tx.exec_params0(sql, v.site.str(), v.client.str(), v.name, v.created_by, when);
  }

  void operator()(const codec::EnrollmentCodeCreatedInfo& v) const {
    static const std::string sql = fmt::format(
        "INSERT INTO enrollment_codes (id, site_id, code_hash, expires_at, created_by, "
        "created_at) VALUES ($1::uuid, $2::uuid, $3, {}, $5, {}) ON CONFLICT DO NOTHING",
        at("$4::bigint"), at("$6::bigint"));
    tx.exec_params0(sql, v.code.str(), v.site.str(), v.code_hash, micros(v.expires_at),
                    v.created_by, when);
  }

  void operator()(const codec::EnrollmentCodeRevokedInfo& v) const {
    static const std::string sql = fmt::format(
        "UPDATE enrollment_codes SET revoked = true, revoked_at = COALESCE(revoked_at, {}), "
        "revoked_by = COALESCE(revoked_by, $3) WHERE id = $1::uuid",
        at("$2::bigint"));
    tx.exec_params0(sql, v.code.str(), when, v.revoked_by);
  }

  void operator()(const codec::AgentEnrolledInfo& v) const {
    // The hostname is only a placeholder until the agent's own AgentStarted: never overwrite it.
    // An agent never moves to another client's site (defense in depth: the responder refuses
    // that, but whoever holds the services credential can publish anything): the update's WHERE
    // leaves the row alone, RETURNING says so, and the caller dead-letters the event.
    static const std::string agent_sql = fmt::format(
        "INSERT INTO agents AS a (id, hostname, last_seq, site_id, public_key, fingerprint_hash, "
        "enrollment_code_id, enrolled_at) VALUES ($1::uuid, $2, 0, $3::uuid, $4, $5, $6::uuid, {}) "
        "ON CONFLICT (id) DO UPDATE SET hostname = COALESCE(a.hostname, EXCLUDED.hostname), "
        "site_id = EXCLUDED.site_id, public_key = EXCLUDED.public_key, "
        "fingerprint_hash = EXCLUDED.fingerprint_hash, "
        "enrollment_code_id = EXCLUDED.enrollment_code_id, enrolled_at = EXCLUDED.enrolled_at "
        "WHERE a.site_id IS NULL OR a.site_id = EXCLUDED.site_id OR "
        "(SELECT client_id FROM sites WHERE id = a.site_id) = "
        "(SELECT client_id FROM sites WHERE id = EXCLUDED.site_id) "
        "RETURNING a.id",
        at("$7::bigint"));
    auto applied = tx.exec_params(agent_sql, v.agent.str(), v.hostname, v.site.str(), v.public_key,
                                  v.fingerprint_hash, v.code.str(), when);
    if (applied.empty()) {
      log::warn(
          "agent.enrollment_refused",
          {{"agent_id", v.agent.str()}, {"site_id", v.site.str()}, {"reason", "other client"}});
      *refusal = RefusedEvent{
          codec::control_event_subject(schema::Payload::AgentEnrolled),
          fmt::format("AgentEnrolled moves agent {} to site {} of another client: not applied",
                      v.agent.str(), v.site.str())};
      return;
    }
    static const std::string key_sql = fmt::format(
        "INSERT INTO agent_keys (public_key, agent_id, enrolled_at) VALUES ($1, $2::uuid, {}) "
        "ON CONFLICT DO NOTHING",
        at("$3::bigint"));
    tx.exec_params0(key_sql, v.public_key, v.agent.str(), when);
    if (!v.retired_public_keys.empty()) {
      static const std::string retire_sql = fmt::format(
          "UPDATE agent_keys SET revoked_at = COALESCE(revoked_at, {}) "
          "WHERE agent_id = $1::uuid AND public_key = ANY($3::text[])",
          at("$2::bigint"));
      tx.exec_params0(retire_sql, v.agent.str(), when, text_array(v.retired_public_keys));
    }
  }

  void operator()(const codec::CloneSuspectedInfo& v) const {
    static const std::string sql = fmt::format(
        "INSERT INTO clone_suspicions (stream_seq, agent_id, new_agent_id, old_fingerprint_hash, "
        "new_fingerprint_hash, detected_at) VALUES ($1, $2::uuid, $3::uuid, $4, $5, {}) "
        "ON CONFLICT DO NOTHING",
        at("$6::bigint"));
    tx.exec_params0(sql, static_cast<std::int64_t>(stream_seq.value), v.agent.str(),
                    v.new_agent.str(), v.old_fingerprint_hash, v.new_fingerprint_hash, when);
  }

  // The control-plane events of the projector and API issues.
  template <class T>
  void operator()(const T& v) const {
    write_control_plane_row(tx, v, event_at);
  }

  // Issue 18: a move within the agent's client. A move to another client's site, to a site that
  // does not exist (or is deleted), or of an agent that is not where the API saw it (a move that
  // raced another) is not applied: dead-lettered with the reason, like AgentEnrolled's.
  void operator()(const codec::AgentMovedInfo& v) const {
    static const std::string sql =
        "UPDATE agents a SET site_id = $3::uuid WHERE a.id = $1::uuid AND a.site_id = $2::uuid "
        "AND EXISTS (SELECT 1 FROM sites s, sites f WHERE s.id = $3::uuid AND s.deleted_at IS "
        "NULL AND f.id = $2::uuid AND s.client_id = f.client_id) RETURNING a.id";
    auto applied = tx.exec_params(sql, v.agent.str(), v.from.str(), v.to.str());
    if (applied.empty()) {
      log::warn("agent.move_refused", {{"agent_id", v.agent.str()},
                                       {"from_site_id", v.from.str()},
                                       {"to_site_id", v.to.str()}});
      *refusal = RefusedEvent{
          codec::control_event_subject(schema::Payload::AgentMoved),
          fmt::format("AgentMoved of agent {} from site {} to site {}: not applied (the agent is "
                      "elsewhere, or the site is gone or of another client)",
                      v.agent.str(), v.from.str(), v.to.str())};
    }
  }

  void operator()(const codec::AgentRevokedInfo& v) const {
    static const std::string agent_sql =
        fmt::format("UPDATE agents SET revoked_at = COALESCE(revoked_at, {}) WHERE id = $1::uuid",
                    at("$2::bigint"));
    tx.exec_params0(agent_sql, v.agent.str(), when);
    static const std::string keys_sql = fmt::format(
        "UPDATE agent_keys SET revoked_at = COALESCE(revoked_at, {}) "
        "WHERE agent_id = $1::uuid OR public_key = ANY($3::text[])",
        at("$2::bigint"));
    tx.exec_params0(keys_sql, v.agent.str(), when, text_array(v.public_keys));
  }
};

}  // namespace

std::optional<RefusedEvent> apply_control_event(pqxx::work& tx, const ControlEvent& event,
                                                StreamSeq stream_seq) {
  std::optional<RefusedEvent> refusal;
  std::visit(Apply{tx, micros(event.occurred_at), stream_seq, event.occurred_at, &refusal},
             event.change);
  return refusal;
}

}  // namespace rmm::projector::db
