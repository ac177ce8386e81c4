// Who is calling: the signed-in user of an authenticated request, as the router hands it to a
// handler (RequestContext::principal), and the tenancy predicates every read and intent uses.
//
// Roles are ordered read_only < technician < admin < owner (schema::UserRole values). Scopes are
// the user's grants from the `user_scopes` read model: global (the whole partner), a client, or a
// site. An owner sees everything whatever its scopes; everyone else sees exactly:
//   - an agent when its site is granted, or the client of its site is, or they are global;
//   - a site likewise (granted site, granted client, or global);
//   - a client when it is granted, or one of its sites is (a site-scoped user sees the client's
//     name but only the granted sites under it), or they are global.
// Agents without a site (never enrolled through a code) are visible to global users only.
// Anything else answers 404 ("outside scope = not found"), never 403.
//
// Use from SQL (preferred, one round trip, scales to 10,000 agents):
//
//   SqlParams p;
//   std::string sql = "SELECT a.id FROM agents a LEFT JOIN sites s ON s.id = a.site_id WHERE " +
//                     principal.visible_sql(p, "s.client_id", "a.site_id") + " AND a.id = " +
//                     p.bind(id.str()) + "::uuid";
//   pqxx::result r = p.exec(tx, sql);
//
// The fragments are boolean expressions for WHERE/AND only (they may be NULL for rows without a
// site, which WHERE treats as false; do not negate them).
//
// Impersonation: while an owner acts as another user, the Principal IS that user (role, scopes,
// visibility), `impersonator` holds the owner, and actor() yields {"user:<target>",
// "user:<owner>"}: put it on every event published for the request.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/db/sql_params.h"
#include "common/control_plane_events.h"
#include "events_generated.h"

namespace rmm::api {

struct Principal {
  UserId user;
  std::string username;
  std::string display_name;
  schema::UserRole role = schema::UserRole::ReadOnly;
  std::vector<codec::ScopeRef> scopes;
  std::optional<UserId> impersonator;  // the owner, while impersonating
  // Which sign-in this request came with: the hex SHA-256 of its session token (the stored key,
  // never the token). Per-session limits (live streams) count by it.
  std::string session;

  // {"user:<id>", "user:<owner>" or ""}.
  codec::Actor actor() const;

  bool at_least(schema::UserRole min) const {
    return static_cast<int>(role) >= static_cast<int>(min);
  }
  // Sees every client, site and agent (owner, or a global grant).
  bool global() const;
  // Granted client ids and site ids (canonical uuid text), without the implied ones.
  std::vector<std::string> client_ids() const;
  std::vector<std::string> site_ids() const;

  // A WHERE fragment: true when a row whose client is `client_col` and site is `site_col` (SQL
  // expressions of type uuid) is visible. Binds its parameters into `p`. "TRUE" when global().
  std::string visible_sql(SqlParams& p, std::string_view client_col,
                          std::string_view site_col) const;
  // A WHERE fragment: true when client `client_col` is visible (granted, or one of its sites is).
  std::string visible_client_sql(SqlParams& p, std::string_view client_col) const;
  // A WHERE fragment: true when agent `agent_col` is visible (joins sites itself; use when the
  // query has no sites join, e.g. commands or alerts by agent id).
  std::string visible_agent_sql(SqlParams& p, std::string_view agent_col) const;
};

// The text form of a role in JSON; an unknown name is nullopt (codec::role_from_name).
inline std::string_view role_text(schema::UserRole role) {
  return codec::role_name(role);
}

}  // namespace rmm::api
