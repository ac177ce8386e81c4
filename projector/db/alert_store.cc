#include "projector/db/alert_store.h"

#include <map>
#include <pqxx/result>

#include "projector/db/sql_text.h"
#include "projector/policy/policy_keys.h"

namespace rmm::projector::db {
namespace {

std::string ts(std::string_view micros_expr) {
  return "timestamptz 'epoch' + " + std::string(micros_expr) + " * interval '1 microsecond'";
}

// Event time from a timestamptz column, in Unix nanoseconds.
constexpr std::string_view kMicros = "(extract(epoch FROM {}) * 1000000)::bigint";

UnixNanos nanos(const pqxx::field& f) {
  return f.as<std::int64_t>() * 1000;
}

std::int64_t min_offline_after_s() {
  const auto* k = policy::find_policy_key("alert.offline.after_s");
  return k != nullptr ? k->min : 30;
}

// In order, one statement each: updates are rare (a resolve per cleared condition, the API's
// alert handling), and a later update of the same alert must see the earlier one.
void apply_updates(pqxx::work& tx, const std::vector<const alerts::AlertUpdate*>& updates) {
  static const std::string resolve_sql =
      "UPDATE alerts SET status = 'resolved', resolved_at = " + ts("$2::bigint") +
      ", resolved_by = $3 WHERE id = $1::uuid AND status = 'active'";
  static const std::string ack_sql =
      "UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, " + ts("$2::bigint") +
      "), acknowledged_by = COALESCE(acknowledged_by, $3), ack_note = COALESCE(ack_note, "
      "NULLIF($4, '')) WHERE id = $1::uuid";
  static const std::string suppress_sql =
      "UPDATE alerts SET suppressed_until = " + ts("$2::bigint") +
      ", suppressed_by = $3 WHERE id = $1::uuid";
  for (const auto* u : updates) {
    switch (u->kind) {
      case alerts::AlertUpdate::Kind::kResolve:
        tx.exec_params0(resolve_sql, u->id.str(), ns_to_micros(u->at), u->by);
        break;
      case alerts::AlertUpdate::Kind::kAcknowledge:
        tx.exec_params0(ack_sql, u->id.str(), ns_to_micros(u->at), u->by, u->note);
        break;
      case alerts::AlertUpdate::Kind::kSuppress:
        tx.exec_params0(suppress_sql, u->id.str(), ns_to_micros(u->until), u->by);
        break;
    }
  }
}

// A row raised in this batch with the batch's later updates of it already applied, so a key
// raised, resolved and raised again within one batch never meets the one-active index twice.
struct NewRow {
  const alerts::RaisedAlert* raised = nullptr;
  bool resolved = false;
  std::optional<std::int64_t> resolved_us, ack_us, suppressed_until_us;
  std::optional<std::string> resolved_by, ack_by, ack_note, suppressed_by;

  void apply(const alerts::AlertUpdate& u) {
    switch (u.kind) {
      case alerts::AlertUpdate::Kind::kResolve:
        if (resolved) return;
        resolved = true;
        resolved_us = ns_to_micros(u.at);
        resolved_by = u.by;
        break;
      case alerts::AlertUpdate::Kind::kAcknowledge:
        if (!ack_us) ack_us = ns_to_micros(u.at);
        if (!ack_by) ack_by = u.by;
        if (!ack_note && !u.note.empty()) ack_note = u.note;
        break;
      case alerts::AlertUpdate::Kind::kSuppress:
        suppressed_until_us = ns_to_micros(u.until);
        suppressed_by = u.by;
        break;
    }
  }
};

void insert_raised(pqxx::work& tx, const std::vector<NewRow>& rows) {
  if (rows.empty()) return;
  PgArray id, agent, rule, subject, severity, message, value, threshold, at, seq, status,
      resolved_at, resolved_by, ack_at, ack_by, ack_note, supp_until, supp_by;
  for (const auto& r : rows) {
    const auto& a = *r.raised;
    id.add_text(a.id.str());
    agent.add_text(a.key.agent.str());
    rule.add_text(a.key.rule);
    subject.add_text(a.key.subject);
    severity.add_text(a.severity);
    message.add_text(a.message);
    value.add_optional(a.value);
    threshold.add_optional(a.threshold);
    at.add(ns_to_micros(a.raised_at));
    seq.add(static_cast<std::int64_t>(a.stream_seq.value));
    status.add_text(r.resolved ? "resolved" : "active");
    resolved_at.add_optional(r.resolved_us);
    resolved_by.add_optional_text(r.resolved_by);
    ack_at.add_optional(r.ack_us);
    ack_by.add_optional_text(r.ack_by);
    ack_note.add_optional_text(r.ack_note);
    supp_until.add_optional(r.suppressed_until_us);
    supp_by.add_optional_text(r.suppressed_by);
  }
  // ON CONFLICT without a target also covers the one-active-alert index: a conflict there is a
  // bug to fix, not a reason to stop the projector.
  static const std::string sql =
      "INSERT INTO alerts (id, agent_id, rule, subject, severity, status, message, value, "
      "threshold, raised_at, raised_stream_seq, resolved_at, resolved_by, acknowledged_at, "
      "acknowledged_by, ack_note, suppressed_until, suppressed_by) "
      "SELECT id, agent_id, rule, subject, severity, status, message, value, threshold, " +
      ts("raised_us") + ", seq, " + ts("resolved_us") + ", resolved_by, " + ts("ack_us") +
      ", ack_by, ack_note, " + ts("supp_us") +
      ", supp_by FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], "
      "$6::text[], $7::float8[], $8::float8[], $9::bigint[], $10::bigint[], $11::text[], "
      "$12::bigint[], $13::text[], $14::bigint[], $15::text[], $16::text[], $17::bigint[], "
      "$18::text[]) AS u(id, agent_id, rule, subject, severity, message, value, threshold, "
      "raised_us, seq, status, resolved_us, resolved_by, ack_us, ack_by, ack_note, supp_us, "
      "supp_by) ON CONFLICT DO NOTHING";
  tx.exec_params0(sql, id.take(), agent.take(), rule.take(), subject.take(), severity.take(),
                  message.take(), value.take(), threshold.take(), at.take(), seq.take(),
                  status.take(), resolved_at.take(), resolved_by.take(), ack_at.take(),
                  ack_by.take(), ack_note.take(), supp_until.take(), supp_by.take());
}

}  // namespace

void load_alert_state(pqxx::work& tx, const std::set<AgentId>& agents,
                      const std::set<AlertId>& alert_ids, alerts::AlertEngine& engine) {
  PgArray ids;
  for (const auto& a : agents) ids.add_text(a.str());
  PgArray named;
  for (const auto& a : alert_ids) named.add_text(a.str());
  // One round trip per batch: the alerts named by control events ('k'), then, for the batch's
  // agents and those alerts' agents, active alerts ('a'), conditions ('c'), suppressions ('s')
  // and the keys whose latest alert a user resolved ('r', with when).
  static const std::string sql =
      "WITH ag AS (SELECT u AS id FROM unnest($1::uuid[]) AS u UNION "
      "SELECT agent_id FROM alerts WHERE id = ANY($2::uuid[])) "
      "SELECT 'k', id, agent_id, rule, subject, NULL::bigint, NULL::float8 FROM alerts "
      "WHERE id = ANY($2::uuid[]) "
      "UNION ALL SELECT 'a', id, agent_id, rule, subject, NULL, NULL FROM alerts "
      "WHERE status = 'active' AND agent_id IN (SELECT id FROM ag) "
      "UNION ALL SELECT 'c', NULL, agent_id, rule, subject, " +
      fmt::format(kMicros, "since") +
      ", last_value FROM alert_conditions WHERE agent_id IN (SELECT id FROM ag) "
      "UNION ALL SELECT 's', NULL, agent_id, rule, subject, " +
      fmt::format(kMicros, "max(suppressed_until)") +
      ", NULL FROM alerts WHERE suppressed_until IS NOT NULL AND agent_id IN (SELECT id FROM ag) "
      "GROUP BY agent_id, rule, subject "
      "UNION ALL SELECT 'r', NULL, agent_id, rule, subject, " +
      fmt::format(kMicros, "resolved_at") +
      ", NULL FROM (SELECT DISTINCT ON (agent_id, rule, subject) agent_id, rule, subject, "
      "status, resolved_at, resolved_by FROM alerts WHERE agent_id IN (SELECT id FROM ag) "
      "ORDER BY agent_id, rule, subject, raised_stream_seq DESC) l "
      "WHERE l.status = 'resolved' AND l.resolved_by <> 'auto'";
  for (const auto& r : tx.exec_params(sql, ids.take(), named.take())) {
    const char kind = r[0].c_str()[0];
    alerts::AlertKey key{AgentId(*uuid_from_string(r[2].c_str())), r[3].as<std::string>(),
                         r[4].as<std::string>()};
    switch (kind) {
      case 'k':
        engine.load_known(AlertId(*uuid_from_string(r[1].c_str())), key);
        break;
      case 'a':
        engine.load_active(key, AlertId(*uuid_from_string(r[1].c_str())));
        break;
      case 'c':
        engine.load_condition(key, alerts::Condition{nanos(r[5]), r[6].as<double>(0)});
        break;
      case 'r':
        engine.load_manual_resolve(key, nanos(r[5]));
        break;
      default:
        engine.load_suppression(key, nanos(r[5]));
        break;
    }
  }
}

std::vector<TickCandidate> tick_candidates(pqxx::work& tx, UnixNanos tick,
                                           const std::set<AgentId>& exclude) {
  PgArray ex;
  for (const auto& a : exclude) ex.add_text(a.str());
  static const std::string sql =
      "SELECT a.id, " + fmt::format(kMicros, "a.last_seen") +
      " FROM agents a WHERE a.revoked_at IS NULL AND a.last_seen IS NOT NULL "
      "AND NOT (a.id = ANY($1::uuid[])) AND (a.last_seen <= " +
      ts("$2::bigint") +
      " OR EXISTS (SELECT 1 FROM alerts al WHERE al.agent_id = a.id AND al.rule = 'offline' "
      "AND al.status = 'active')) ORDER BY a.id";
  const std::int64_t cutoff = ns_to_micros(tick) - min_offline_after_s() * 1'000'000;
  std::vector<TickCandidate> out;
  for (const auto& r : tx.exec_params(sql, ex.take(), cutoff)) {
    out.push_back({AgentId(*uuid_from_string(r[0].c_str())), nanos(r[1])});
  }
  return out;
}

void write_alert_changes(pqxx::work& tx, const alerts::AlertEngine& engine) {
  // Updates of alerts raised before this batch are applied first, in stream order: a resolved
  // alert leaves the one-active index before its successor is inserted. Alerts raised in this
  // batch are inserted with their own later updates already applied.
  std::map<AlertId, std::size_t> raised_now;
  std::vector<NewRow> rows;
  rows.reserve(engine.raised().size());
  for (const auto& a : engine.raised()) {
    raised_now[a.id] = rows.size();
    rows.push_back(NewRow{.raised = &a});
  }
  std::vector<const alerts::AlertUpdate*> earlier;
  for (const auto& u : engine.updates()) {
    if (auto it = raised_now.find(u.id); it != raised_now.end()) {
      rows[it->second].apply(u);
    } else {
      earlier.push_back(&u);
    }
  }
  apply_updates(tx, earlier);
  insert_raised(tx, rows);
  if (!engine.condition_changes().empty()) {
    PgArray agent, rule, subject, since, value, del_agent, del_rule, del_subject;
    for (const auto& [key, c] : engine.condition_changes()) {
      if (c) {
        agent.add_text(key.agent.str());
        rule.add_text(key.rule);
        subject.add_text(key.subject);
        since.add(ns_to_micros(c->since));
        value.add(c->last_value);
      } else {
        del_agent.add_text(key.agent.str());
        del_rule.add_text(key.rule);
        del_subject.add_text(key.subject);
      }
    }
    tx.exec_params0(
        "DELETE FROM alert_conditions c USING unnest($1::uuid[], $2::text[], $3::text[]) "
        "AS u(agent_id, rule, subject) WHERE c.agent_id = u.agent_id AND c.rule = u.rule "
        "AND c.subject = u.subject",
        del_agent.take(), del_rule.take(), del_subject.take());
    static const std::string upsert =
        "INSERT INTO alert_conditions (agent_id, rule, subject, since, last_value) "
        "SELECT agent_id, rule, subject, " +
        ts("since_us") +
        ", last_value FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[], "
        "$5::float8[]) AS u(agent_id, rule, subject, since_us, last_value) "
        "ON CONFLICT (agent_id, rule, subject) DO UPDATE SET since = EXCLUDED.since, "
        "last_value = EXCLUDED.last_value";
    tx.exec_params0(upsert, agent.take(), rule.take(), subject.take(), since.take(), value.take());
  }
}

}  // namespace rmm::projector::db
