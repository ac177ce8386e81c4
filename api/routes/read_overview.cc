// GET /api/v1/overview: what a technician opens the dashboard for, in one answer. Every part is
// read from the read models (agents, agent_latest_metrics, alerts, commands, agent_updates) and
// filtered by the caller's scopes like the lists it links to.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/principal.h"
#include "api/db/sql_params.h"
#include "api/routes/json_reply.h"
#include "api/routes/read_common.h"
#include "api/routes/read_routes.h"

namespace rmm::api {
namespace {

// Rows in each "worst" list, the offline list and the failures list: enough to act on, small
// enough that the overview stays one screen (the full lists are one link away).
constexpr int kTop = 5;
constexpr int kFailures = 10;
constexpr std::chrono::hours kRecent{24};

constexpr const char* kAgentJoins =
    " FROM agents a LEFT JOIN sites s ON s.id = a.site_id"
    " LEFT JOIN clients c ON c.id = s.client_id AND c.deleted_at IS NULL ";

// Active alerts per agent, counted once over the active ones (partial index alerts_active) and
// joined as `ac`: a subquery per agent cost most of the per-client statement at 10,000 agents.
constexpr const char* kActiveAlertsJoin =
    " LEFT JOIN (SELECT al.agent_id, count(*) AS n FROM alerts al WHERE al.status = 'active'"
    " GROUP BY al.agent_id) ac ON ac.agent_id = a.id ";

// A command counts as failed when the agent says so, or when it ran and exited non-zero. The same
// text is the predicate of the partial index commands_failed (migration 0022).
constexpr const char* kFailedCommand =
    "(cm.status IN ('failed', 'timed_out', 'expired', 'rejected', 'interrupted') OR"
    " (cm.status = 'completed' AND cm.exit_code <> 0))";
constexpr const char* kUpdateBusy = "u.step IN ('started', 'downloaded', 'verified', 'installed')";
constexpr const char* kUpdateFailed = "u.step IN ('failed', 'rolled_back', 'refused')";

std::string since_sql(SqlParams& p, UnixNanos now) {
  const UnixNanos since = now - std::chrono::nanoseconds(kRecent).count();
  return "to_timestamp(" + p.bind(std::to_string(static_cast<double>(since) / 1e9)) +
         "::double precision)";
}

// {"id", "hostname", "client_name", <value_key>: value} from (id, hostname, client name, value).
boost::json::object agent_ref(const pqxx::row& r, int first, const char* value_key,
                              boost::json::value value) {
  return boost::json::object{{"id", json_text(r[first])},
                             {"hostname", json_text(r[first + 1])},
                             {"client_name", json_text(r[first + 2])},
                             {value_key, std::move(value)}};
}

}  // namespace

Response ReadRoutes::overview(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  const UnixNanos now = clock_.now();
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    // Every client the caller may see, with or without agents.
    SqlParams p;
    std::string status = status_sql(p);
    std::string client_vis = pr.visible_client_sql(p, "c.id");
    std::string agent_vis = pr.visible_sql(p, "s.client_id", "a.site_id");
    auto per_client =
        p.exec(tx, "SELECT c.id::text, c.name, count(a.id), count(a.id) FILTER (WHERE " + status +
                       " = 'online'), COALESCE(sum(ac.n), 0) FROM clients c LEFT JOIN sites s ON"
                       " s.client_id = c.id LEFT JOIN agents a ON a.site_id = s.id AND a.revoked_at"
                       " IS NULL AND " +
                       agent_vis + kActiveAlertsJoin + "WHERE c.deleted_at IS NULL AND " +
                       client_vis + " GROUP BY c.id, c.name ORDER BY c.name, c.id");

    // Totals, and the agents of no (live) client: credentials minted by rmm-admin, or a client
    // deleted under them. Only global users see these.
    SqlParams q;
    std::string qstatus = status_sql(q);
    auto totals = q.exec(
        tx, "SELECT count(*), count(*) FILTER (WHERE " + qstatus +
                " = 'online'), count(*) FILTER (WHERE c.id IS NULL), count(*) FILTER (WHERE c.id"
                " IS NULL AND " +
                qstatus + " = 'online'), COALESCE(sum(ac.n) FILTER (WHERE c.id IS NULL), 0)" +
                kAgentJoins + kActiveAlertsJoin + "WHERE a.revoked_at IS NULL AND " +
                pr.visible_sql(q, "s.client_id", "a.site_id"));

    SqlParams r;
    auto alerts =
        r.exec(tx,
               "SELECT al.severity, count(*) FROM alerts al LEFT JOIN agents a ON a.id ="
               " al.agent_id LEFT JOIN sites s ON s.id = a.site_id WHERE al.status ="
               " 'active' AND " +
                   pr.visible_sql(r, "s.client_id", "a.site_id") + " GROUP BY al.severity");

    // The busiest online agents by their latest sample. The CTE is read three times, so
    // PostgreSQL computes it (and each agent's fullest filesystem) once.
    SqlParams w;
    std::string wstatus = status_sql(w);
    auto worst = w.exec(
        tx,
        "WITH v AS (SELECT a.id, a.hostname, c.name AS client_name, m.cpu_percent::float8 AS cpu,"
        " (CASE WHEN m.mem_total_bytes > 0 THEN m.mem_used_bytes * 100.0 / m.mem_total_bytes"
        " END)::float8 AS mem, (SELECT max((f->>'used_bytes')::float8 * 100 /"
        " NULLIF((f->>'total_bytes')::float8, 0)) FROM jsonb_array_elements(COALESCE("
        "m.filesystems, '[]'::jsonb)) f) AS disk" +
            std::string(kAgentJoins) +
            "JOIN agent_latest_metrics m ON m.agent_id = a.id WHERE a.revoked_at IS NULL AND " +
            wstatus + " = 'online' AND " + pr.visible_sql(w, "s.client_id", "a.site_id") +
            ") (SELECT 'cpu', id::text, hostname, client_name, cpu FROM v WHERE cpu IS NOT NULL"
            " ORDER BY cpu DESC, id LIMIT " +
            std::to_string(kTop) +
            ") UNION ALL (SELECT 'memory', id::text, hostname, client_name, mem FROM v WHERE mem"
            " IS NOT NULL ORDER BY mem DESC, id LIMIT " +
            std::to_string(kTop) +
            ") UNION ALL (SELECT 'disk', id::text, hostname, client_name, disk FROM v WHERE disk"
            " IS NOT NULL ORDER BY disk DESC, id LIMIT " +
            std::to_string(kTop) + ")");

    // The agents that went offline last (the most likely to matter right now).
    SqlParams o;
    std::string ostatus = status_sql(o);
    auto offline =
        o.exec(tx, "SELECT a.id::text, a.hostname, c.name, " + sql_us("a.last_seen") + kAgentJoins +
                       "WHERE a.revoked_at IS NULL AND " + ostatus + " = 'offline' AND " +
                       pr.visible_sql(o, "s.client_id", "a.site_id") +
                       " ORDER BY a.last_seen DESC NULLS LAST, a.id LIMIT " + std::to_string(kTop));

    SqlParams u;
    std::string usince = since_sql(u, now);
    auto updates = u.exec(tx, std::string("SELECT count(*) FILTER (WHERE ") + kUpdateBusy +
                                  "), count(*) FILTER (WHERE " + kUpdateFailed +
                                  " AND u.updated_at >= " + usince +
                                  ") FROM agent_updates u JOIN agents a ON a.id = u.agent_id"
                                  " LEFT JOIN sites s ON s.id = a.site_id WHERE a.revoked_at IS"
                                  " NULL AND " +
                                  pr.visible_sql(u, "s.client_id", "a.site_id"));

    // Failed commands and updates of the last 24 hours, newest first.
    SqlParams f;
    std::string fsince = since_sql(f, now);
    std::string fvis = pr.visible_sql(f, "s.client_id", "a.site_id");
    auto failures = f.exec(
        tx,
        "(SELECT 'command', cm.id::text, cm.agent_id::text, a.hostname, CASE WHEN cm.status ="
        " 'completed' THEN 'exit ' || cm.exit_code ELSE cm.status END, COALESCE(cm.summary,"
        " cm.kind), " +
            sql_us("cm.updated_at") +
            " AS at FROM commands cm JOIN agents a ON a.id = cm.agent_id LEFT JOIN sites s ON"
            " s.id = a.site_id WHERE " +
            kFailedCommand + " AND cm.updated_at >= " + fsince + " AND " + fvis +
            " ORDER BY cm.updated_at DESC LIMIT " + std::to_string(kFailures) +
            ") UNION ALL (SELECT 'update', u.command_id::text, u.agent_id::text, a.hostname,"
            " u.step, u.from_version || ' to ' || u.to_version, " +
            sql_us("u.updated_at") +
            " FROM agent_updates u JOIN agents a ON a.id = u.agent_id LEFT JOIN sites s ON s.id ="
            " a.site_id WHERE " +
            kUpdateFailed + " AND u.updated_at >= " + fsince + " AND " + fvis +
            " ORDER BY u.updated_at DESC LIMIT " + std::to_string(kFailures) +
            ") ORDER BY at DESC LIMIT " + std::to_string(kFailures));

    boost::json::object sev{{"critical", 0}, {"warning", 0}, {"info", 0}};
    for (const auto& row : alerts) sev[row[0].c_str()] = row[1].as<std::int64_t>();
    boost::json::array clients;
    for (const auto& row : per_client) {
      clients.push_back(boost::json::object{{"id", json_text(row[0])},
                                            {"name", json_text(row[1])},
                                            {"agents", json_int(row[2])},
                                            {"online", json_int(row[3])},
                                            {"active_alerts", json_int(row[4])}});
    }
    boost::json::object worst_by{{"cpu", boost::json::array{}},
                                 {"memory", boost::json::array{}},
                                 {"disk", boost::json::array{}}};
    for (const auto& row : worst) {
      worst_by[row[0].c_str()].as_array().push_back(
          agent_ref(row, 1, "percent", json_double(row[4])));
    }
    boost::json::array offline_items;
    for (const auto& row : offline) {
      offline_items.push_back(agent_ref(row, 0, "last_seen", json_time_us(row[3])));
    }
    boost::json::array failure_items;
    for (const auto& row : failures) {
      failure_items.push_back(boost::json::object{{"kind", json_text(row[0])},
                                                  {"command_id", json_text(row[1])},
                                                  {"agent_id", json_text(row[2])},
                                                  {"hostname", json_text(row[3])},
                                                  {"status", json_text(row[4])},
                                                  {"summary", json_text(row[5])},
                                                  {"at", json_time_us(row[6])}});
    }
    const auto& t = totals[0];
    const std::int64_t total = t[0].as<std::int64_t>();
    const std::int64_t online = t[1].as<std::int64_t>();
    return json_response(
        req,
        boost::json::object{
            {"agents", {{"total", total}, {"online", online}, {"offline", total - online}}},
            {"alerts", std::move(sev)},
            {"clients", std::move(clients)},
            {"unassigned",
             {{"agents", json_int(t[2])},
              {"online", json_int(t[3])},
              {"active_alerts", json_int(t[4])}}},
            {"offline_agents", std::move(offline_items)},
            {"worst", std::move(worst_by)},
            {"updates",
             {{"in_progress", json_int(updates[0][0])}, {"failed_24h", json_int(updates[0][1])}}},
            {"failures", std::move(failure_items)},
            {"recent_hours", kRecent.count()}});
  });
}

}  // namespace rmm::api
