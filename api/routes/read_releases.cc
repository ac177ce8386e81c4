// GET /api/v1/releases, /rollouts, /rollouts/{id}, /agents/{id}/updates (docs/updates.md).
//
// Releases are the partner's builds, visible to every signed-in user. A rollout is visible when
// its scope is: a global rollout to everyone, a client, site or agent rollout to who sees that
// client, site or agent. Inside a visible rollout, every agent list and count holds only the
// caller's agents (a global rollout shows a client-scoped user their own agents' rows alone).
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include "api/auth/principal.h"
#include "api/db/sql_params.h"
#include "api/routes/json_reply.h"
#include "api/routes/read_common.h"
#include "api/routes/read_routes.h"
#include "api/server/query.h"

namespace rmm::api {
namespace {

// Every step an update reports, plus "pending" (a ring member that reported nothing yet).
constexpr std::array<std::string_view, 9> kSteps = {
    "pending", "started", "downloaded",  "verified", "installed",
    "healthy", "refused", "rolled_back", "failed",
};

// WHERE fragment: rollout `r` is visible to `pr`.
std::string rollout_visible_sql(SqlParams& p, const Principal& pr) {
  if (pr.global()) return "TRUE";
  return "COALESCE(r.scope = 'global' OR (r.scope = 'client' AND " +
         pr.visible_client_sql(p, "r.scope_id") +
         ") OR (r.scope = 'site' AND EXISTS (SELECT 1 FROM sites vs WHERE vs.id = r.scope_id AND " +
         pr.visible_sql(p, "vs.client_id", "vs.id") + ")) OR (r.scope = 'agent' AND " +
         pr.visible_agent_sql(p, "r.scope_id") + "), false)";
}

// The visible members of each ring of rollout `rollout_param` with their latest step toward the
// rollout's version: (ring_index, agent_id, hostname, step, reason, detail, command_id,
// updated_at us). Step NULL: pending.
std::string members_sql(SqlParams& p, const Principal& pr, const std::string& rollout_param) {
  return "SELECT g.ring_index, m.agent_id::text, a.hostname, u.step, u.reason, u.detail, "
         "u.command_id::text, " +
         sql_us("u.updated_at") +
         " FROM rollout_rings g JOIN rollouts r ON r.id = g.rollout_id"
         " CROSS JOIN LATERAL unnest(COALESCE(g.agents, '{}')) AS m(agent_id)"
         " LEFT JOIN agents a ON a.id = m.agent_id"
         " LEFT JOIN LATERAL (SELECT x.step, x.reason, x.detail, x.command_id, x.updated_at"
         "   FROM agent_updates x WHERE x.agent_id = m.agent_id AND x.to_version = r.version"
         "   ORDER BY x.updated_at DESC LIMIT 1) u ON TRUE"
         " WHERE g.rollout_id = " +
         rollout_param + "::uuid AND " + pr.visible_agent_sql(p, "m.agent_id") +
         " ORDER BY g.ring_index, m.agent_id";
}

boost::json::object zero_counts() {
  boost::json::object c;
  for (auto s : kSteps) c[s] = 0;
  return c;
}

void count_step(boost::json::object& counts, const pqxx::field& step) {
  const std::string key = step.is_null() ? "pending" : step.c_str();
  if (auto* v = counts.if_contains(key)) {
    *v = v->as_int64() + 1;
  } else {
    counts[key] = 1;
  }
}

// The ids of `field` (uuid[] text) that `pr` may see, as a JSON array (visibility asked in SQL by
// the caller: this only parses).
boost::json::array uuid_list(const pqxx::field& f) {
  boost::json::array out;
  if (f.is_null()) return out;
  auto parser = f.as_array();
  for (auto [kind, text] = parser.get_next(); kind != pqxx::array_parser::juncture::done;
       std::tie(kind, text) = parser.get_next()) {
    if (kind == pqxx::array_parser::juncture::string_value) out.emplace_back(text);
  }
  return out;
}

// SQL: the elements of uuid[] column `col` whose agent `pr` sees, as uuid[].
std::string visible_ids_sql(SqlParams& p, const Principal& pr, const std::string& col) {
  return "ARRAY(SELECT v.id FROM unnest(COALESCE(" + col + ", '{}')) AS v(id) WHERE " +
         pr.visible_agent_sql(p, "v.id") + " ORDER BY v.id)";
}

// The release notes of a signed manifest (text; null when the manifest is not a JSON object
// with string notes).
boost::json::value manifest_notes(const pqxx::field& f) {
  boost::system::error_code ec;
  auto doc = boost::json::parse(f.c_str(), ec);
  if (ec || !doc.is_object()) return nullptr;
  const auto* notes = doc.as_object().if_contains("notes");
  if (notes == nullptr || !notes->is_string()) return nullptr;
  return *notes;
}

std::string rollout_columns() {
  return "r.id::text, r.version, r.platform, r.arch, r.scope, r.scope_id::text, r.status, "
         "r.current_ring, r.halted_reason, r.advance_healthy_percent, r.halt_failed_percent, "
         "r.created_by, " +
         sql_us("r.created_at") + ", " + sql_us("r.updated_at") +
         ", (SELECT count(*) FROM rollout_rings g WHERE g.rollout_id = r.id), " +
         actor_name_sql("r.created_by") + ", " + entity_name_sql("r.scope", "r.scope_id::text");
}

boost::json::object rollout_json(const pqxx::row& r) {
  const bool global = std::string_view(r[4].c_str()) == "global";
  return boost::json::object{
      {"id", json_text(r[0])},
      {"version", json_text(r[1])},
      {"platform", json_text(r[2])},
      {"arch", json_text(r[3])},
      {"scope", json_text(r[4])},
      {"scope_id", global ? boost::json::value(nullptr) : json_text(r[5])},
      {"status", json_text(r[6])},
      {"current_ring", json_int(r[7])},
      {"halted_reason", json_text(r[8])},
      {"advance_healthy_percent", json_int(r[9])},
      {"halt_failed_percent", json_int(r[10])},
      {"created_by", json_text(r[11])},
      {"created_at", json_time_us(r[12])},
      {"updated_at", json_time_us(r[13])},
      {"ring_count", json_int(r[14])},
      {"created_by_name", json_text(r[15])},
      {"scope_name", json_text(r[16])},
  };
}

}  // namespace

Response ReadRoutes::releases(const Request& req, const RequestContext& ctx) {
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    SqlParams p;
    std::string where = " WHERE TRUE";
    if (auto v = query_param(req, "version")) where += " AND version = " + p.bind(*v);
    auto rows = p.exec(tx, "SELECT version, platform, arch, size, sha256, key_id, published_by, " +
                               sql_us("published_at") + ", manifest FROM releases" + where +
                               " ORDER BY published_at DESC, version, platform, arch LIMIT 500");
    boost::json::array items;
    for (const auto& r : rows) {
      items.push_back(boost::json::object{
          {"version", json_text(r[0])},
          {"platform", json_text(r[1])},
          {"arch", json_text(r[2])},
          {"size", json_int(r[3])},
          {"sha256", json_text(r[4])},
          {"key_id", json_text(r[5])},
          {"published_by", json_text(r[6])},
          {"published_at", json_time_us(r[7])},
          {"notes", manifest_notes(r[8])},
      });
    }
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
  });
}

Response ReadRoutes::rollouts(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    SqlParams p;
    std::string where = " WHERE " + rollout_visible_sql(p, pr);
    if (auto status = query_param(req, "status")) {
      if (*status != "created" && *status != "running" && *status != "halted" &&
          *status != "completed") {
        return fail(Error::Code::kInvalidInput,
                    "status must be created, running, halted or completed");
      }
      where += " AND r.status = " + p.bind(*status);
    }
    auto rows = p.exec(tx, "SELECT " + rollout_columns() + " FROM rollouts r" + where +
                               " ORDER BY r.created_at DESC, r.id DESC LIMIT 500");
    boost::json::array items;
    for (const auto& r : rows) {
      auto item = rollout_json(r);
      // Counts over the caller's agents of every started ring.
      SqlParams q;
      auto counts = zero_counts();
      for (const auto& m : q.exec(tx, members_sql(q, pr, q.bind(r[0].c_str())))) {
        count_step(counts, m[3]);
      }
      item["counts"] = std::move(counts);
      items.push_back(std::move(item));
    }
    return json_response(
        req, boost::json::object{{"items", std::move(items)}, {"next_cursor", nullptr}});
  });
}

Response ReadRoutes::rollout(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    SqlParams p;
    auto head =
        p.exec(tx, "SELECT " + rollout_columns() + " FROM rollouts r WHERE r.id = " + p.bind(*id) +
                       "::uuid AND " + rollout_visible_sql(p, pr));
    if (head.empty()) return fail(Error::Code::kNotFound, "rollout");
    auto out = rollout_json(head[0]);

    SqlParams rp;
    const std::string rid = rp.bind(*id);
    auto rings = rp.exec(
        tx, "SELECT g.ring_index, g.name, g.percent, " +
                visible_ids_sql(rp, pr, "g.planned_agents") + "::text, " + sql_us("g.started_at") +
                ", " + visible_ids_sql(rp, pr, "g.excluded_by_policy") + "::text, " +
                visible_ids_sql(rp, pr, "g.no_release_for_platform") +
                "::text, g.agents IS NOT NULL FROM rollout_rings g WHERE g.rollout_id = " + rid +
                "::uuid ORDER BY g.ring_index");
    boost::json::array ring_items;
    for (const auto& g : rings) {
      auto excluded = uuid_list(g[5]);
      auto no_release = uuid_list(g[6]);
      ring_items.push_back(boost::json::object{
          {"index", json_int(g[0])},
          {"name", json_text(g[1])},
          {"percent", json_int(g[2])},
          {"planned_agents", uuid_list(g[3])},
          {"started_at", json_time_us(g[4])},
          {"started", g[7].as<bool>()},
          {"excluded_by_policy", static_cast<std::int64_t>(excluded.size())},
          {"no_release_for_platform", static_cast<std::int64_t>(no_release.size())},
          {"excluded_by_policy_agents", std::move(excluded)},
          {"no_release_for_platform_agents", std::move(no_release)},
          {"members", 0},
          {"counts", zero_counts()},
      });
    }

    SqlParams mp;
    boost::json::array agents;
    auto total = zero_counts();
    for (const auto& m : mp.exec(tx, members_sql(mp, pr, mp.bind(*id)))) {
      const auto index = m[0].as<std::int64_t>();
      count_step(total, m[3]);
      for (auto& ring : ring_items) {
        auto& o = ring.as_object();
        if (o["index"].as_int64() != index) continue;
        o["members"] = o["members"].as_int64() + 1;
        count_step(o["counts"].as_object(), m[3]);
      }
      agents.push_back(boost::json::object{
          {"ring_index", index},
          {"agent_id", json_text(m[1])},
          {"hostname", json_text(m[2])},
          {"step", m[3].is_null() ? boost::json::value("pending") : json_text(m[3])},
          {"reason", json_text(m[4])},
          {"detail", json_text(m[5])},
          {"command_id", json_text(m[6])},
          {"updated_at", json_time_us(m[7])},
      });
    }
    // The latest started ring's exclusions are the rollout's (each ring recomputes them).
    std::int64_t excluded = 0, no_release = 0;
    for (const auto& ring : ring_items) {
      const auto& o = ring.as_object();
      if (!o.at("started").as_bool()) continue;
      excluded = o.at("excluded_by_policy").as_int64();
      no_release = o.at("no_release_for_platform").as_int64();
    }
    out["counts"] = std::move(total);
    out["excluded_by_policy"] = excluded;
    out["no_release_for_platform"] = no_release;
    out["rings"] = std::move(ring_items);
    out["agents"] = std::move(agents);
    return json_response(req, out);
  });
}

Response ReadRoutes::agent_updates(const Request& req, const RequestContext& ctx) {
  const Principal& pr = *ctx.principal;
  return with_tx(req, ctx, [&](pqxx::transaction_base& tx) -> Result<Response> {
    auto id = uuid_path(ctx, "id");
    if (!id) return std::unexpected(id.error());
    SqlParams p;
    auto head =
        p.exec(tx,
               "SELECT a.version FROM agents a LEFT JOIN sites s ON s.id = a.site_id"
               " WHERE a.id = " +
                   p.bind(*id) + "::uuid AND " + pr.visible_sql(p, "s.client_id", "a.site_id"));
    if (head.empty()) return fail(Error::Code::kNotFound, "agent");
    auto rows = tx.exec_params(
        "SELECT command_id::text, from_version, to_version, step, reason, "
        "detail, " +
            sql_us("started_at") + ", " + sql_us("updated_at") +
            " FROM agent_updates WHERE agent_id = $1::uuid"
            " ORDER BY updated_at DESC, command_id DESC LIMIT 200",
        *id);
    boost::json::array items;
    for (const auto& r : rows) {
      items.push_back(boost::json::object{
          {"command_id", json_text(r[0])},
          {"from_version", json_text(r[1])},
          {"to_version", json_text(r[2])},
          {"step", json_text(r[3])},
          {"reason", json_text(r[4])},
          {"detail", json_text(r[5])},
          {"started_at", json_time_us(r[6])},
          {"updated_at", json_time_us(r[7])},
      });
    }
    return json_response(req, boost::json::object{{"agent_id", *id},
                                                  {"current_version", json_text(head[0][0])},
                                                  {"items", std::move(items)},
                                                  {"next_cursor", nullptr}});
  });
}

}  // namespace rmm::api
