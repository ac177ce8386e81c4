// The tenancy matrix: two clients (A and B), each with a site, an agent, a command, an alert,
// policies, an enrollment code and audit rows, seeded directly into the read models; and the
// table of every route with what a user scoped to A must get for B's ids.
//
// To cover a new route, add a row to kPathRoutes (routes naming one thing by id: B's id must give
// 404, A's id `own_status`) or kListRoutes (lists: B's rows never appear). Placeholders in paths
// and bodies: {client} {site} {agent} {command} {alert} {code} {user}.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "tests/api/api_env.h"

namespace rmm::test {

// The ids of one tenant, by placeholder name ("client", "site", "agent", ...), plus the strings
// that identify its rows in any answer (ids, names, hostnames).
struct Tenant {
  std::map<std::string, std::string> ids;
  std::vector<std::string> markers;
};

struct TenancySeed {
  Tenant a, b;
};

// Seeds clients A and B (and their sites, agents, commands, alerts, policies, effective policies,
// enrollment codes, audit rows, metrics) into `env`'s database.
TenancySeed seed_two_clients(const ApiEnv& env);

// Replaces every {name} of `text` by the tenant's id of that name.
std::string fill(std::string text, const Tenant& t);

struct PathRoute {
  std::string method;
  std::string path;
  std::string body;  // may hold placeholders; empty: no body
  int own_status;    // what the A-scoped user gets with A's ids (0: not checked)
};

struct ListRoute {
  std::string path;  // may hold placeholders (filled with B's ids too: still nothing of B)
  bool must_show_a;  // A's markers must appear (filled with A's ids)
};

extern const std::vector<PathRoute> kPathRoutes;
extern const std::vector<ListRoute> kListRoutes;

}  // namespace rmm::test
