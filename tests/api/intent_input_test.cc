// How the API reads request bodies, against the real stack: JSON only when declared so
// (Content-Type: application/json, else 415), and never an object that names a key twice (400),
// on intents and on sign-in alike.
#include <doctest/doctest.h>

#include "tests/api/intent_stack.h"

using namespace rmm;
using namespace rmm::test;
using schema::PolicyScope;
using schema::UserRole;

namespace {

HttpResponse post_as(const TestUser& user, const std::string& target, const std::string& body,
                     const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> headers{{"Authorization", "Bearer " + user.token}};
  headers.insert(extra.begin(), extra.end());
  return http_request(shared_stack().port(), "POST", target, body, headers);
}

void check_problem(const HttpResponse& r, int status) {
  CHECK_MESSAGE(r.status == status, r.body);
  CHECK(r.headers.at("content-type") == "application/problem+json");
}

}  // namespace

TEST_CASE("intents: a key named twice is refused, not resolved to the last") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  check_problem(s.call("POST", "/api/v1/clients", R"({"name":"First","name":"Second"})", owner),
                400);
  check_problem(s.call("PUT", "/api/v1/policies",
                       R"({"scope":"client","scope_id":")" + s.client_a.str() +
                           R"(","settings":{"alert.cpu.percent":90,"alert.cpu.percent":5}})",
                       owner),
                400);
  check_problem(s.call("PATCH", "/api/v1/users/" + owner.id.str(),
                       R"({"disabled":false,"disabled":true})", owner),
                400);
  // Sign-in too: which username would have been checked?
  auto login = http_request(s.port(), "POST", "/api/v1/auth/login",
                            R"({"username":"a","username":"b","password":"x"})",
                            {{"Content-Type", "application/json"}});
  check_problem(login, 400);
}

TEST_CASE("intents: a body must be declared application/json (415 otherwise)") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  const std::string body = R"({"name":"Typed client"})";
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded",
                           "multipart/form-data; boundary=x", "application/jsonx"}) {
    CAPTURE(type);
    auto r = post_as(owner, "/api/v1/clients", body, {{"Content-Type", type}});
    check_problem(r, 415);
    CHECK(r.headers.at("accept") == "application/json");
  }
  check_problem(post_as(owner, "/api/v1/clients", body, {{"Content-Type", ""}}), 415);
  check_problem(
      http_request(s.port(), "POST", "/api/v1/auth/login", R"({"username":"a","password":"b"})",
                   {{"Content-Type", "text/plain"}}),
      415);
  // Parameters and case do not matter; an empty body needs no type.
  CHECK(
      post_as(owner, "/api/v1/clients", body, {{"Content-Type", "Application/JSON; charset=utf-8"}})
          .status == 202);
  auto tech = s.user(UserRole::Technician, {{PolicyScope::Client, s.client_a.bytes()}});
  auto cmd =
      s.call("POST", "/api/v1/commands?wait=10000",
             R"({"agent_ids":[")" + s.agent_a.str() + R"("],"kind":"refresh_inventory"})", tech);
  REQUIRE(cmd.status == 202);
  std::string id(json_body(cmd).at("commands").as_array()[0].at("id").as_string());
  CHECK(post_as(tech, "/api/v1/commands/" + id + "/cancel", "", {}).status == 202);
  // Unauthenticated callers learn nothing about the body: 401 first.
  auto anon =
      http_request(s.port(), "POST", "/api/v1/clients", body, {{"Content-Type", "text/plain"}});
  check_problem(anon, 401);
}
