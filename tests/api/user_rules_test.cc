// Who may change which user (docs/api.md "Intents", Users), against the real stack: a user without
// grants lies inside nobody's scope, so a client admin can neither reset its password, grant it
// its own client, change its role or disable it; nor create one or take a user's last grant away.
#include <doctest/doctest.h>

#include <pqxx/nontransaction>

#include "tests/api/intent_stack.h"

using namespace rmm;
using namespace rmm::test;
using schema::PolicyScope;
using schema::UserRole;

namespace {

const std::string kPassword = "correct horse battery staple";

void check_status(const HttpResponse& r, int status) {
  CHECK_MESSAGE(r.status == status, r.body);
  if (status >= 400) CHECK(r.headers.at("content-type") == "application/problem+json");
}

std::string scalar(const std::string& sql) {
  pqxx::nontransaction tx(shared_stack().db());
  auto r = tx.exec(sql);
  REQUIRE(r.size() == 1);
  return r[0][0].is_null() ? "NULL" : r[0][0].c_str();
}

std::string client_grant(const ClientId& c) {
  return R"([{"scope":"client","id":")" + c.str() + R"("}])";
}

bool listed(const HttpResponse& r, const UserId& id) {
  const auto body = json_body(r);
  for (const auto& item : body.at("items").as_array()) {
    if (item.at("id").as_string() == id.str()) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("users: a client admin cannot take over a user who has no grants") {
  auto& s = shared_stack();
  auto admin_a = s.user(UserRole::Admin, {{PolicyScope::Client, s.client_a.bytes()}});
  auto global_admin = s.user(UserRole::Admin, {{PolicyScope::Global, {}}});
  auto owner = s.user(UserRole::Owner, {});
  auto bare = s.user(UserRole::Technician, {});
  const std::string path = "/api/v1/users/" + bare.id.str();

  // Each of these was 202 before: the check "all of its grants lie inside mine" held vacuously.
  check_status(s.call("PATCH", path, R"({"password":")" + kPassword + R"("})", admin_a), 404);
  check_status(s.call("PATCH", path, R"({"scopes":)" + client_grant(s.client_a) + "}", admin_a),
               404);
  check_status(s.call("PATCH", path, R"({"role":"read_only"})", admin_a), 404);
  check_status(s.call("PATCH", path, R"({"disabled":true})", admin_a), 404);
  CHECK(scalar("SELECT count(*) FROM user_scopes WHERE user_id = '" + bare.id.str() + "'") == "0");
  CHECK(scalar("SELECT password_hash FROM auth.credentials WHERE user_id = '" + bare.id.str() +
               "'") == "x");
  // Nor does the client admin see it in the list.
  auto list = s.call("GET", "/api/v1/users", "", admin_a);
  REQUIRE(list.status == 200);
  CHECK_FALSE(listed(list, bare.id));

  // Global admins and owners manage it.
  auto by_global = s.call("PATCH", path + "?wait=10000",
                          R"({"scopes":)" + client_grant(s.client_a) + "}", global_admin);
  CHECK_MESSAGE(by_global.status == 202, by_global.body);
  CHECK(s.call("GET", "/api/v1/users", "", global_admin).status == 200);
  // Now inside client A: the client admin manages it (and sees it).
  CHECK(listed(s.call("GET", "/api/v1/users", "", admin_a), bare.id));
  check_status(s.call("PATCH", path, R"({"role":"read_only"})", admin_a), 202);
  auto bare2 = s.user(UserRole::ReadOnly, {});
  check_status(s.call("PATCH", "/api/v1/users/" + bare2.id.str(),
                      R"({"password":")" + kPassword + R"("})", owner),
               202);
}

TEST_CASE("users: a client admin neither creates a user without grants nor takes the last away") {
  auto& s = shared_stack();
  auto admin_a = s.user(UserRole::Admin, {{PolicyScope::Client, s.client_a.bytes()}});
  auto global_admin = s.user(UserRole::Admin, {{PolicyScope::Global, {}}});

  check_status(
      s.call("POST", "/api/v1/users",
             R"({"username":"nogrants1","password":")" + kPassword + R"(","role":"technician"})",
             admin_a),
      403);
  check_status(s.call("POST", "/api/v1/users",
                      R"({"username":"nogrants2","password":")" + kPassword +
                          R"(","role":"technician","scopes":[]})",
                      admin_a),
               403);
  CHECK(scalar("SELECT count(*) FROM auth.credentials WHERE username LIKE 'nogrants%'") == "0");
  // A global admin may (the user sees nothing until granted something).
  check_status(
      s.call("POST", "/api/v1/users",
             R"({"username":"nogrants3","password":")" + kPassword + R"(","role":"technician"})",
             global_admin),
      202);

  auto member = s.user(UserRole::Technician, {{PolicyScope::Client, s.client_a.bytes()}});
  const std::string path = "/api/v1/users/" + member.id.str();
  check_status(s.call("PATCH", path, R"({"scopes":[]})", admin_a), 403);
  // Replacing its grants by others inside the admin's scope is fine.
  check_status(s.call("PATCH", path,
                      R"({"scopes":[{"scope":"site","id":")" + s.site_a.str() + R"("}]})", admin_a),
               202);
}
