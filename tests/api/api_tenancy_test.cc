// The tenancy matrix over every route (tenancy_matrix.cc): a user scoped to client A (or only to
// A's site) gets 404 for each of B's ids, and no list ever shows B's rows.
#include <doctest/doctest.h>

#include "tests/api/tenancy_matrix.h"

using namespace rmm;
using namespace rmm::test;

namespace {

bool shows_any(const std::string& body, const Tenant& t) {
  for (const auto& m : t.markers) {
    if (body.find(m) != std::string::npos) return true;
  }
  return false;
}

void check_matrix(const ApiEnv& env, const TenancySeed& seed, const std::string& token) {
  for (const auto& route : kPathRoutes) {
    const std::string b_path = fill(route.path, seed.b);
    INFO(route.method << " " << b_path);
    auto res = env.send(route.method, b_path, token, fill(route.body, seed.b));
    check_problem(res, 404);
    CHECK_FALSE(shows_any(res.body, seed.b));
    if (route.own_status != 0) {
      auto own = env.send(route.method, fill(route.path, seed.a), token, fill(route.body, seed.a));
      CHECK_MESSAGE(own.status == route.own_status, own.body);
    }
  }
  for (const auto& route : kListRoutes) {
    for (const Tenant* filler : {&seed.a, &seed.b}) {
      const std::string path = fill(route.path, *filler);
      INFO("GET " << path);
      auto res = env.get(path, token);
      REQUIRE_MESSAGE(res.status == 200, res.body);
      CHECK_FALSE(shows_any(res.body, seed.b));
      if (route.must_show_a && filler == &seed.a) CHECK(shows_any(res.body, seed.a));
    }
  }
}

}  // namespace

TEST_CASE("tenancy matrix: a client-A user never sees client B") {
  ApiEnv env("api_tenancy_client");
  auto seed = seed_two_clients(env);
  env.add_user("ua", "admin", {{"client", seed.a.ids.at("client")}});
  check_matrix(env, seed, env.login("ua"));
}

TEST_CASE("tenancy matrix: a user granted only A's site never sees client B") {
  ApiEnv env("api_tenancy_site");
  auto seed = seed_two_clients(env);
  env.add_user("us", "read_only", {{"site", seed.a.ids.at("site")}});
  check_matrix(env, seed, env.login("us"));
}

TEST_CASE("tenancy: a global user sees both; users and dead letters follow the admin's scope") {
  ApiEnv env("api_tenancy_global");
  auto seed = seed_two_clients(env);
  env.add_user("root", "owner", {{"global", kNilUuid}});
  env.add_user("ua", "admin", {{"client", seed.a.ids.at("client")}});
  env.add_user("ub", "technician", {{"client", seed.b.ids.at("client")}});
  env.add_user("none", "read_only", {});
  std::string owner = env.login("root");
  auto agents = env.get("/api/v1/agents", owner);
  REQUIRE(agents.status == 200);
  CHECK(shows_any(agents.body, seed.a));
  CHECK(shows_any(agents.body, seed.b));
  CHECK(env.get(fill("/api/v1/agents/{agent}", seed.b), owner).status == 200);

  // A scoped admin lists the users inside its own grants only; a user without grants is inside
  // nobody's.
  std::string ua = env.login("ua");
  auto users = env.get("/api/v1/users", ua);
  REQUIRE(users.status == 200);
  CHECK(users.body.find("\"ua\"") != std::string::npos);
  CHECK(users.body.find("\"none\"") == std::string::npos);
  CHECK(users.body.find("\"ub\"") == std::string::npos);
  CHECK(users.body.find("\"root\"") == std::string::npos);
  check_problem(env.get("/api/v1/dead-letters", ua), 403);
  CHECK(env.get("/api/v1/dead-letters", owner).status == 200);

  // A user without any scope sees nothing at all.
  std::string none = env.login("none");
  auto empty = env.get("/api/v1/agents", none);
  REQUIRE(empty.status == 200);
  CHECK(parse_object(empty.body).at("items").as_array().empty());
  check_problem(env.get(fill("/api/v1/agents/{agent}", seed.a), none), 404);
}
