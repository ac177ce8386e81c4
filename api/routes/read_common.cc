#include "api/routes/read_common.h"

#include "api/db/sql_params.h"
#include "api/routes/json_reply.h"

namespace rmm::api {
namespace {

// Commands issued through the API have issued_at; older ones only received_at.
constexpr const char* kCommandTime = "COALESCE(issued_at, received_at, updated_at)";

}  // namespace

std::string sql_uuid_or_null(std::string_view expr) {
  const std::string e(expr);
  return "(CASE WHEN (" + e +
         ") ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (" + e +
         ")::uuid END)";
}

std::string actor_name_sql(std::string_view col) {
  const std::string c(col);
  return "(SELECT COALESCE(NULLIF(un.display_name, ''), un.username) FROM users un WHERE un.id = " +
         sql_uuid_or_null("CASE WHEN " + c + " LIKE 'user:%' THEN substr(" + c + ", 6) END") + ")";
}

std::string entity_name_sql(std::string_view kind_sql, std::string_view id_sql) {
  const std::string k(kind_sql);
  const std::string id = sql_uuid_or_null(id_sql);
  return "(CASE " + k + " WHEN 'client' THEN (SELECT en.name FROM clients en WHERE en.id = " + id +
         ") WHEN 'site' THEN (SELECT en.name FROM sites en WHERE en.id = " + id +
         ") WHEN 'agent' THEN (SELECT en.hostname FROM agents en WHERE en.id = " + id +
         ") WHEN 'user' THEN (SELECT COALESCE(NULLIF(en.display_name, ''), en.username) FROM users"
         " en WHERE en.id = " +
         id + ") END)";
}

bool agent_visible(pqxx::transaction_base& tx, const Principal& p, const std::string& agent_id) {
  SqlParams q;
  std::string sql = "SELECT 1 FROM agents a LEFT JOIN sites s ON s.id = a.site_id WHERE a.id = " +
                    q.bind(agent_id) + "::uuid AND " + p.visible_sql(q, "s.client_id", "a.site_id");
  return !q.exec(tx, sql).empty();
}

Page command_items(pqxx::transaction_base& tx, const std::string& agent_id, int limit,
                   const std::optional<std::pair<std::int64_t, std::string>>& after) {
  SqlParams q;
  std::string time = sql_us(kCommandTime);
  std::string sql = "SELECT id::text, agent_id::text, kind, summary, status, issuer, " +
                    sql_us("issued_at") + ", " + sql_us("received_at") + ", " +
                    sql_us("started_at") + ", " + sql_us("finished_at") +
                    ", exit_code, duration_ms, reason, impersonator, " + time + ", " +
                    actor_name_sql("issuer") + ", " + actor_name_sql("impersonator") +
                    " FROM commands WHERE agent_id = " + q.bind(agent_id) + "::uuid";
  if (after) {
    sql += " AND (" + time + ", id) < (" + q.bind(std::to_string(after->first)) + "::bigint, " +
           q.bind(after->second) + "::uuid)";
  }
  sql += " ORDER BY " + time + " DESC, id DESC LIMIT " + std::to_string(limit + 1);
  return page_of(
      q.exec(tx, sql), limit,
      [](const pqxx::row& r) {
        return boost::json::object{
            {"id", json_text(r[0])},
            {"agent_id", json_text(r[1])},
            {"kind", json_text(r[2])},
            {"summary", json_text(r[3])},
            {"status", json_text(r[4])},
            {"issuer", json_text(r[5])},
            {"issued_at", json_time_us(r[6])},
            {"received_at", json_time_us(r[7])},
            {"started_at", json_time_us(r[8])},
            {"finished_at", json_time_us(r[9])},
            {"exit_code", json_int(r[10])},
            {"duration_ms", json_int(r[11])},
            {"reason", json_text(r[12])},
            {"impersonator", json_text(r[13])},
            {"issuer_name", json_text(r[15])},
            {"impersonator_name", json_text(r[16])},
        };
      },
      [](const pqxx::row& last) {
        return boost::json::array{last[14].as<std::int64_t>(),
                                  boost::json::string(last[0].c_str())};
      });
}

std::string alert_columns() {
  return "al.id::text, al.agent_id::text, a.hostname, al.rule, al.subject, al.severity, "
         "al.status, al.message, al.value, al.threshold, " +
         sql_us("al.raised_at") + ", " + sql_us("al.resolved_at") + ", al.resolved_by, " +
         sql_us("al.acknowledged_at") + ", al.acknowledged_by, " + sql_us("al.suppressed_until") +
         ", " + actor_name_sql("al.resolved_by") + ", " + actor_name_sql("al.acknowledged_by") +
         ", al.suppressed_by, " + actor_name_sql("al.suppressed_by") + ", al.ack_note";
}

boost::json::object alert_json(const pqxx::row& r) {
  return boost::json::object{
      {"id", json_text(r[0])},
      {"agent_id", json_text(r[1])},
      {"hostname", json_text(r[2])},
      {"rule", json_text(r[3])},
      {"subject", json_text(r[4])},
      {"severity", json_text(r[5])},
      {"status", json_text(r[6])},
      {"message", json_text(r[7])},
      {"value", json_double(r[8])},
      {"threshold", json_double(r[9])},
      {"raised_at", json_time_us(r[10])},
      {"resolved_at", json_time_us(r[11])},
      {"resolved_by", json_text(r[12])},
      {"acknowledged_at", json_time_us(r[13])},
      {"acknowledged_by", json_text(r[14])},
      {"suppressed_until", json_time_us(r[15])},
      {"resolved_by_name", json_text(r[16])},
      {"acknowledged_by_name", json_text(r[17])},
      {"suppressed_by", json_text(r[18])},
      {"suppressed_by_name", json_text(r[19])},
      {"ack_note", json_text(r[20])},
  };
}

}  // namespace rmm::api
