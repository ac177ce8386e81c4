#include "api/auth/principal.h"

namespace rmm::api {

codec::Actor Principal::actor() const {
  codec::Actor a;
  a.actor = "user:" + user.str();
  if (impersonator) a.impersonator = "user:" + impersonator->str();
  return a;
}

bool Principal::global() const {
  if (role == schema::UserRole::Owner) return true;
  for (const auto& s : scopes) {
    if (s.scope == schema::PolicyScope::Global) return true;
  }
  return false;
}

std::vector<std::string> Principal::client_ids() const {
  std::vector<std::string> out;
  for (const auto& s : scopes) {
    if (s.scope == schema::PolicyScope::Client) out.push_back(uuid_to_string(s.id));
  }
  return out;
}

std::vector<std::string> Principal::site_ids() const {
  std::vector<std::string> out;
  for (const auto& s : scopes) {
    if (s.scope == schema::PolicyScope::Site) out.push_back(uuid_to_string(s.id));
  }
  return out;
}

std::string Principal::visible_sql(SqlParams& p, std::string_view client_col,
                                   std::string_view site_col) const {
  if (global()) return "TRUE";
  std::string clients = p.bind(array_literal(client_ids()));
  std::string sites = p.bind(array_literal(site_ids()));
  return "(" + std::string(client_col) + " = ANY(" + clients + "::uuid[]) OR " +
         std::string(site_col) + " = ANY(" + sites + "::uuid[]))";
}

std::string Principal::visible_client_sql(SqlParams& p, std::string_view client_col) const {
  if (global()) return "TRUE";
  std::string clients = p.bind(array_literal(client_ids()));
  std::string sites = p.bind(array_literal(site_ids()));
  return "(" + std::string(client_col) + " = ANY(" + clients + "::uuid[]) OR " +
         std::string(client_col) + " IN (SELECT vs.client_id FROM sites vs WHERE vs.id = ANY(" +
         sites + "::uuid[])))";
}

std::string Principal::visible_agent_sql(SqlParams& p, std::string_view agent_col) const {
  if (global()) return "TRUE";
  std::string clients = p.bind(array_literal(client_ids()));
  std::string sites = p.bind(array_literal(site_ids()));
  return "EXISTS (SELECT 1 FROM agents va JOIN sites vs ON vs.id = va.site_id WHERE va.id = " +
         std::string(agent_col) + " AND (vs.client_id = ANY(" + clients +
         "::uuid[]) OR vs.id = ANY(" + sites + "::uuid[])))";
}

}  // namespace rmm::api
