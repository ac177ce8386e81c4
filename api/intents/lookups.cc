#include "api/intents/lookups.h"

#include <fmt/format.h>

#include <pqxx/transaction>
#include <set>

#include "api/db/sql_params.h"
#include "api/intents/read_tx.h"
#include "api/intents/reply.h"

namespace rmm::api::intents {
namespace {

std::string id_list(const std::vector<AgentId>& ids) {
  std::vector<std::string> text;
  text.reserve(ids.size());
  for (const auto& id : ids) text.push_back(id.str());
  return array_literal(text);
}

Result<std::vector<TargetAgent>> rows_to_agents(const pqxx::result& r, std::size_t max) {
  if (r.size() > max) {
    return invalid(fmt::format("more than {} agents would be targeted; narrow the target", max));
  }
  std::vector<TargetAgent> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    auto id = AgentId::parse(row[0].c_str());
    if (!id) return std::unexpected(id.error());
    TargetAgent a{*id, row[1].as<bool>(), std::nullopt, std::nullopt};
    if (!row[2].is_null()) a.site = SiteId(*uuid_from_string(row[2].c_str()));
    if (!row[3].is_null()) a.client = ClientId(*uuid_from_string(row[3].c_str()));
    out.push_back(std::move(a));
  }
  return out;
}

constexpr const char* kAgentVisible =
    "SELECT a.id::text, a.revoked_at IS NOT NULL, a.site_id::text, s.client_id::text FROM agents a "
    "LEFT JOIN sites s ON s.id = a.site_id WHERE ";

}  // namespace

Result<std::vector<TargetAgent>> Lookups::agents(const Principal& p,
                                                 const std::vector<AgentId>& ids) {
  auto found = with_read<std::vector<TargetAgent>>(
      pool_, [&](pqxx::read_transaction& tx) -> Result<std::vector<TargetAgent>> {
        SqlParams q;
        std::string sql = std::string(kAgentVisible) + "a.id = ANY(" + q.bind(id_list(ids)) +
                          "::uuid[]) AND " + p.visible_sql(q, "s.client_id", "a.site_id");
        return rows_to_agents(q.exec(tx, sql), ids.size());
      });
  if (!found) return found;
  // Answer in request order; the first id that is missing or invisible is the 404.
  // Named by position, not id: a 404 never echoes an id back (the tenancy matrix checks bodies).
  std::vector<TargetAgent> ordered;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& id = ids[i];
    auto it = std::find_if(found->begin(), found->end(), [&](const auto& a) { return a.id == id; });
    if (it == found->end()) return not_found(fmt::format("agent_ids[{}]: agent not found", i));
    ordered.push_back(*it);
  }
  return ordered;
}

Result<TargetAgent> Lookups::agent(const Principal& p, const AgentId& id) {
  auto list = agents(p, {id});
  if (!list && list.error().code == Error::Code::kNotFound) return not_found("agent not found");
  if (!list) return std::unexpected(list.error());
  return list->front();
}

Result<std::vector<TargetAgent>> Lookups::agents_of_site(const Principal& p, const SiteId& site,
                                                         std::size_t max) {
  if (auto s = this->site(p, site); !s) return std::unexpected(s.error());
  return with_read<std::vector<TargetAgent>>(
      pool_, [&](pqxx::read_transaction& tx) -> Result<std::vector<TargetAgent>> {
        SqlParams q;
        std::string sql = std::string(kAgentVisible) + "a.site_id = " + q.bind(site.str()) +
                          "::uuid AND a.revoked_at IS NULL AND " +
                          p.visible_sql(q, "s.client_id", "a.site_id") + " ORDER BY a.id LIMIT " +
                          std::to_string(max + 1);
        return rows_to_agents(q.exec(tx, sql), max);
      });
}

Result<std::vector<TargetAgent>> Lookups::agents_of_client(const Principal& p,
                                                           const ClientId& client,
                                                           std::size_t max) {
  if (auto s = this->client(p, client, false); !s) return std::unexpected(s.error());
  return with_read<std::vector<TargetAgent>>(
      pool_, [&](pqxx::read_transaction& tx) -> Result<std::vector<TargetAgent>> {
        SqlParams q;
        std::string sql = std::string(kAgentVisible) + "s.client_id = " + q.bind(client.str()) +
                          "::uuid AND s.deleted_at IS NULL AND a.revoked_at IS NULL AND " +
                          p.visible_sql(q, "s.client_id", "a.site_id") + " ORDER BY a.id LIMIT " +
                          std::to_string(max + 1);
        return rows_to_agents(q.exec(tx, sql), max);
      });
}

Result<CommandRow> Lookups::command(const Principal& p, const CommandId& id) {
  return with_read<CommandRow>(pool_, [&](pqxx::read_transaction& tx) -> Result<CommandRow> {
    SqlParams q;
    std::string sql =
        "SELECT c.agent_id::text, c.status FROM commands c WHERE c.id = " + q.bind(id.str()) +
        "::uuid AND " + p.visible_agent_sql(q, "c.agent_id");
    auto r = q.exec(tx, sql);
    if (r.empty()) return not_found("command not found");
    auto agent = AgentId::parse(r[0][0].c_str());
    if (!agent) return std::unexpected(agent.error());
    return CommandRow{id, *agent, r[0][1].c_str()};
  });
}

Status Lookups::alert(const Principal& p, const AlertId& id) {
  return with_read<void>(pool_, [&](pqxx::read_transaction& tx) -> Status {
    SqlParams q;
    std::string sql = "SELECT 1 FROM alerts al WHERE al.id = " + q.bind(id.str()) + "::uuid AND " +
                      p.visible_agent_sql(q, "al.agent_id");
    if (q.exec(tx, sql).empty()) return not_found("alert not found");
    return {};
  });
}

Status Lookups::alerts(const Principal& p, const std::vector<AlertId>& ids) {
  return with_read<void>(pool_, [&](pqxx::read_transaction& tx) -> Status {
    std::vector<std::string> text;
    text.reserve(ids.size());
    for (const auto& id : ids) text.push_back(id.str());
    SqlParams q;
    std::string sql = "SELECT al.id::text FROM alerts al WHERE al.id = ANY(" +
                      q.bind(array_literal(text)) + "::uuid[]) AND " +
                      p.visible_agent_sql(q, "al.agent_id");
    std::set<std::string> found;
    for (const auto& r : q.exec(tx, sql)) found.insert(r[0].c_str());
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (!found.contains(text[i])) return not_found(fmt::format("ids[{}]: alert not found", i));
    }
    return {};
  });
}

Status Lookups::client(const Principal& p, const ClientId& id, bool directly) {
  return with_read<void>(pool_, [&](pqxx::read_transaction& tx) -> Status {
    SqlParams q;
    std::string sql = "SELECT c.id FROM clients c WHERE c.id = " + q.bind(id.str()) +
                      "::uuid AND c.deleted_at IS NULL AND " + p.visible_client_sql(q, "c.id");
    if (q.exec(tx, sql).empty()) return not_found("client not found");
    if (directly && !p.global()) {
      auto granted = p.client_ids();
      if (std::find(granted.begin(), granted.end(), id.str()) == granted.end()) {
        return forbidden("managing a client needs a grant on the client itself");
      }
    }
    return {};
  });
}

Result<SiteRow> Lookups::site(const Principal& p, const SiteId& id) {
  return with_read<SiteRow>(pool_, [&](pqxx::read_transaction& tx) -> Result<SiteRow> {
    SqlParams q;
    std::string sql =
        "SELECT s.client_id::text FROM sites s JOIN clients c ON c.id = s.client_id WHERE s.id = " +
        q.bind(id.str()) + "::uuid AND s.deleted_at IS NULL AND c.deleted_at IS NULL AND " +
        p.visible_sql(q, "s.client_id", "s.id");
    auto r = q.exec(tx, sql);
    if (r.empty()) return not_found("site not found");
    auto client = ClientId::parse(r[0][0].c_str());
    if (!client) return std::unexpected(client.error());
    return SiteRow{id, *client};
  });
}

Status Lookups::scope(const Principal& p, const codec::ScopeRef& scope,
                      const std::string& global_refusal) {
  switch (scope.scope) {
    case schema::PolicyScope::Global:
      if (!p.global()) return forbidden(global_refusal);
      return {};
    case schema::PolicyScope::Client:
      return client(p, ClientId(scope.id), true);
    case schema::PolicyScope::Site:
      if (auto s = site(p, SiteId(scope.id)); !s) return std::unexpected(s.error());
      return {};
    case schema::PolicyScope::Agent:
      if (auto a = agent(p, AgentId(scope.id)); !a) return std::unexpected(a.error());
      return {};
  }
  return fail(Error::Code::kInvalidInput, "unknown scope");
}

Status Lookups::enrollment_code(const Principal& p, const EnrollmentCodeId& id) {
  return with_read<void>(pool_, [&](pqxx::read_transaction& tx) -> Status {
    SqlParams q;
    std::string sql =
        "SELECT 1 FROM enrollment_codes e JOIN sites s ON s.id = e.site_id WHERE e.id = " +
        q.bind(id.str()) + "::uuid AND " + p.visible_sql(q, "s.client_id", "s.id");
    if (q.exec(tx, sql).empty()) {
      return not_found("enrollment code not found");
    }
    return {};
  });
}

Result<UserRow> Lookups::user(const Principal& p, const UserId& id) {
  auto row = with_read<UserRow>(pool_, [&](pqxx::read_transaction& tx) -> Result<UserRow> {
    SqlParams q;
    auto r =
        q.exec(tx, "SELECT role, disabled FROM users WHERE id = " + q.bind(id.str()) + "::uuid");
    if (r.empty()) return not_found("user not found");
    UserRow u{id};
    u.role = codec::role_from_name(r[0][0].c_str()).value_or(schema::UserRole::ReadOnly);
    u.disabled = r[0][1].as<bool>();
    SqlParams s;
    auto scopes = s.exec(tx, "SELECT scope, scope_id::text FROM user_scopes WHERE user_id = " +
                                 s.bind(id.str()) + "::uuid");
    for (const auto& sr : scopes) {
      auto scope = codec::scope_from_name(sr[0].c_str());
      auto sid = uuid_from_string(sr[1].c_str());
      if (scope && sid) u.scopes.push_back({*scope, *sid});
    }
    return u;
  });
  if (!row) return row;
  if (p.role == schema::UserRole::Owner) return row;
  // An admin manages only users below admin, inside its own scopes; others do not exist for it.
  if (!p.at_least(schema::UserRole::Admin) || row->role >= schema::UserRole::Admin) {
    return not_found("user not found");
  }
  // A user without grants is not inside anyone's client or site: the one it is given next decides
  // what it sees, so only owners and global admins may touch it (else "all of its grants are
  // inside mine" would hold vacuously, and a client admin could take it over).
  if (row->scopes.empty() && !p.global()) return not_found("user not found");
  for (const auto& scope : row->scopes) {
    auto inside = scope_within(pool_, p, scope);
    if (!inside) return std::unexpected(inside.error());
    if (!*inside) return not_found("user not found");
  }
  return row;
}

Result<bool> Lookups::client_name_taken(const std::string& name,
                                        const std::optional<ClientId>& except) {
  return with_read<bool>(pool_, [&](pqxx::read_transaction& tx) -> Result<bool> {
    SqlParams q;
    // A renamed client keeps its partner; a new one gets the default partner, the only one.
    std::string partner =
        except ? "(SELECT partner_id FROM clients WHERE id = " + q.bind(except->str()) + "::uuid)"
               : q.bind(std::string(kDefaultPartnerId)) + "::uuid";
    std::string sql = "SELECT 1 FROM clients WHERE deleted_at IS NULL AND lower(name) = lower(" +
                      q.bind(name) + ") AND partner_id = " + partner;
    if (except) sql += " AND id <> " + q.bind(except->str()) + "::uuid";
    return !q.exec(tx, sql + " LIMIT 1").empty();
  });
}

Result<bool> Lookups::username_taken(const std::string& username) {
  return with_read<bool>(pool_, [&](pqxx::read_transaction& tx) -> Result<bool> {
    SqlParams q;
    std::string name = q.bind(username);
    auto r = q.exec(tx, "SELECT 1 FROM users WHERE username = " + name +
                            " UNION ALL SELECT 1 FROM auth.credentials WHERE username = " + name);
    return !r.empty();
  });
}

Result<bool> scope_within(PgPool& pool, const Principal& p, const codec::ScopeRef& scope) {
  if (p.global()) return true;
  Lookups lookups(pool);
  switch (scope.scope) {
    case schema::PolicyScope::Client: {
      auto granted = p.client_ids();
      return std::find(granted.begin(), granted.end(), uuid_to_string(scope.id)) != granted.end();
    }
    case schema::PolicyScope::Site: {
      auto s = lookups.site(p, SiteId(scope.id));
      if (s) return true;
      if (s.error().code == Error::Code::kNotFound) return false;
      return std::unexpected(s.error());
    }
    default:
      return false;  // global, or agent (not a user grant)
  }
}

}  // namespace rmm::api::intents
