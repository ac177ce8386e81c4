#include "projector/db/policy_store.h"

#include <fmt/format.h>

#include <pqxx/result>

#include "common/log.h"
#include "projector/db/sql_text.h"
#include "projector/policy/policy_keys.h"

namespace rmm::projector::db {
namespace {

constexpr std::string_view kNilUuid = "00000000-0000-0000-0000-000000000000";

std::string uuid_array(const std::set<AgentId>& ids) {
  PgArray a;
  for (const auto& id : ids) a.add_text(id.str());
  return a.take();
}

std::string uuid_array(const std::set<std::string>& ids) {
  PgArray a;
  for (const auto& id : ids) a.add_text(id);
  return a.take();
}

policy::Level level_of(std::string_view scope) {
  if (scope == "client") return policy::Level::kClient;
  if (scope == "site") return policy::Level::kSite;
  if (scope == "agent") return policy::Level::kAgent;
  return policy::Level::kGlobal;
}

}  // namespace

void write_policy(pqxx::work& tx, const codec::PolicySetInfo& v, UnixNanos at) {
  const std::string scope(codec::scope_name(v.scope.scope));
  const std::string scope_id = uuid_to_string(v.scope.id);
  if (v.values.empty()) {
    tx.exec_params0("DELETE FROM policies WHERE scope = $1 AND scope_id = $2::uuid", scope,
                    scope_id);
    return;
  }
  std::map<std::string, std::string> settings;  // a repeated key: the last one wins
  for (const auto& [key, value] : v.values) {
    if (auto st = policy::validate_policy_value(key, value); !st) {
      log::warn("policy.value_ignored", {{"scope", scope}, {"error", st.error().message}});
    }
    settings[key] = value;
  }
  std::string json = "{";
  for (const auto& [key, value] : settings) {
    if (json.size() > 1) json += ',';
    append_json_string(json, key);
    json += ':';
    append_json_string(json, value);
  }
  json += '}';
  tx.exec_params0(
      "INSERT INTO policies (scope, scope_id, settings, set_by, set_at) "
      "VALUES ($1, $2::uuid, $3::jsonb, $4, timestamptz 'epoch' + $5 * interval '1 microsecond') "
      "ON CONFLICT (scope, scope_id) DO UPDATE SET settings = EXCLUDED.settings, "
      "set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at",
      scope, scope_id, json, v.by.actor, ns_to_micros(at));
}

std::set<AgentId> agents_in_scope(pqxx::work& tx, const codec::ScopeRef& scope) {
  std::set<AgentId> out;
  const std::string id = uuid_to_string(scope.id);
  pqxx::result r;
  switch (scope.scope) {
    case schema::PolicyScope::Global:
      r = tx.exec("SELECT id FROM agents");
      break;
    case schema::PolicyScope::Client:
      r = tx.exec_params(
          "SELECT a.id FROM agents a JOIN sites s ON s.id = a.site_id WHERE s.client_id = $1::uuid",
          id);
      break;
    case schema::PolicyScope::Site:
      r = tx.exec_params("SELECT id FROM agents WHERE site_id = $1::uuid", id);
      break;
    case schema::PolicyScope::Agent:
      out.insert(AgentId(scope.id));
      return out;
  }
  for (const auto& row : r) {
    if (auto a = AgentId::parse(row[0].c_str())) out.insert(*a);
  }
  return out;
}

std::map<AgentId, policy::EffectivePolicy> compute_effective(pqxx::work& tx,
                                                             const std::set<AgentId>& agents,
                                                             std::set<AgentId>* revoked) {
  std::map<AgentId, policy::EffectivePolicy> out;
  if (agents.empty()) return out;
  struct Place {
    std::optional<std::string> site, client;
  };
  std::map<AgentId, Place> places;
  std::set<std::string> sites, clients, agent_ids;
  for (const auto& row :
       tx.exec_params("SELECT u.id, a.site_id, s.client_id, a.revoked_at IS NOT NULL "
                      "FROM unnest($1::uuid[]) AS u(id) "
                      "LEFT JOIN agents a ON a.id = u.id LEFT JOIN sites s ON s.id = a.site_id",
                      uuid_array(agents))) {
    auto id = AgentId::parse(row[0].c_str());
    if (!id) continue;
    Place p;
    if (!row[1].is_null()) sites.insert(*(p.site = row[1].as<std::string>()));
    if (!row[2].is_null()) clients.insert(*(p.client = row[2].as<std::string>()));
    agent_ids.insert(id->str());
    if (revoked != nullptr && row[3].as<bool>(false)) revoked->insert(*id);
    places[*id] = std::move(p);
  }
  // Every document that can matter, keyed by "scope:id".
  std::map<std::string, policy::PolicyDoc> docs;
  for (const auto& row :
       tx.exec_params("SELECT p.scope, p.scope_id, kv.key, kv.value FROM policies p, "
                      "jsonb_each_text(p.settings) AS kv WHERE p.scope = 'global' "
                      "OR (p.scope = 'client' AND p.scope_id = ANY($1::uuid[])) "
                      "OR (p.scope = 'site' AND p.scope_id = ANY($2::uuid[])) "
                      "OR (p.scope = 'agent' AND p.scope_id = ANY($3::uuid[]))",
                      uuid_array(clients), uuid_array(sites), uuid_array(agent_ids))) {
    const std::string scope = row[0].as<std::string>();
    const std::string id = row[1].as<std::string>();
    auto& doc = docs[scope + ":" + id];
    doc.level = level_of(scope);
    if (auto bytes = uuid_from_string(id)) doc.scope_id = *bytes;
    if (!row[3].is_null()) doc.settings[row[2].as<std::string>()] = row[3].as<std::string>();
  }
  auto find = [&](std::string key) -> const policy::PolicyDoc* {
    auto it = docs.find(key);
    return it == docs.end() ? nullptr : &it->second;
  };
  const auto* global = find(fmt::format("global:{}", kNilUuid));
  for (const auto& [agent, place] : places) {
    std::vector<const policy::PolicyDoc*> levels;
    if (global != nullptr) levels.push_back(global);
    if (place.client) {
      if (const auto* d = find("client:" + *place.client)) levels.push_back(d);
    }
    if (place.site) {
      if (const auto* d = find("site:" + *place.site)) levels.push_back(d);
    }
    if (const auto* d = find("agent:" + agent.str())) levels.push_back(d);
    out[agent] = policy::merge_policy(levels);
  }
  return out;
}

void store_effective(pqxx::work& tx, const std::map<AgentId, policy::EffectivePolicy>& policies) {
  if (policies.empty()) return;
  PgArray ids, agent, key, value, scope, source;
  for (const auto& [id, effective] : policies) {
    ids.add_text(id.str());
    for (const auto& [k, v] : effective) {
      agent.add_text(id.str());
      key.add_text(k);
      value.add_text(v.value);
      scope.add_text(policy::level_name(v.source));
      if (v.source_id) {
        source.add_text(uuid_to_string(*v.source_id));
      } else {
        source.add_null();
      }
    }
  }
  tx.exec_params0("DELETE FROM effective_policies WHERE agent_id = ANY($1::uuid[])", ids.take());
  tx.exec_params0(
      "INSERT INTO effective_policies (agent_id, key, value, source_scope, source_id) "
      "SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[])",
      agent.take(), key.take(), value.take(), scope.take(), source.take());
}

}  // namespace rmm::projector::db
