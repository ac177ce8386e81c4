// Names next to ids in the read answers, the audit log's filters and CSV export, a command read
// right after it was issued, unique client names and live-stream tickets (issue 18), against the
// real stack (tests/api/intent_stack.h).
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <pqxx/nontransaction>

#include "api/routes/csv.h"
#include "projector/policy/policy_keys.h"
#include "tests/api/intent_stack.h"
#include "tests/api/sse_client.h"

using namespace rmm;
using namespace rmm::test;
using namespace std::chrono_literals;
using schema::PolicyScope;
using schema::UserRole;

namespace {

std::string scalar(const std::string& sql) {
  pqxx::nontransaction tx(shared_stack().db());
  auto r = tx.exec(sql);
  return r.empty() || r[0][0].is_null() ? std::string() : r[0][0].c_str();
}

std::string username(const TestUser& u) {
  return scalar("SELECT username FROM users WHERE id = '" + u.id.str() + "'");
}

std::string text(const boost::json::value& v) {
  return v.is_string() ? std::string(v.as_string()) : std::string();
}

boost::json::array items(const HttpResponse& r) {
  REQUIRE(r.status == 200);
  return json_body(r).at("items").as_array();
}

codec::ScopeRef client_scope(const ClientId& c) {
  return {PolicyScope::Client, c.bytes()};
}

std::string issue_refresh(IntentStack& s, const TestUser& u) {
  auto r = s.call("POST", "/api/v1/commands",
                  R"({"agent_ids":[")" + s.agent_a.str() + R"("],"kind":"refresh_inventory"})", u);
  REQUIRE(r.status == 202);
  return std::string(json_body(r).at("commands").as_array()[0].at("id").as_string());
}

}  // namespace

TEST_CASE("names: a command read right after it was issued, with its issuer's name") {
  auto& s = shared_stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  // No ?wait= on the intent: the read waits for the projection of a command this young.
  const std::string id = issue_refresh(s, tech);
  auto r = s.call("GET", "/api/v1/commands/" + id, "", tech);
  REQUIRE(r.status == 200);
  auto cmd = json_body(r);
  CHECK(text(cmd.at("status")) == "queued");
  CHECK(text(cmd.at("issuer")) == "user:" + tech.id.str());
  CHECK(text(cmd.at("issuer_name")) == username(tech));
  CHECK(text(cmd.at("hostname")) == "host-a");

  auto list = items(s.call("GET", "/api/v1/agents/" + s.agent_a.str() + "/commands", "", tech));
  bool found = false;
  for (const auto& c : list) {
    if (text(c.at("id")) != id) continue;
    found = true;
    CHECK(text(c.at("issuer_name")) == username(tech));
  }
  CHECK(found);

  // An old or unknown id is still a plain 404, at once; ?wait= is bounded.
  auto t0 = std::chrono::steady_clock::now();
  CHECK(s.call("GET", "/api/v1/commands/00000000-0000-4000-8000-000000000000", "", tech).status ==
        404);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(s.call("GET", "/api/v1/commands/" + id + "?wait=99999", "", tech).status == 400);
}

TEST_CASE("names: enrollment codes, policies, effective policy and users carry names") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  auto admin_a = s.user(UserRole::Admin, {client_scope(s.client_a)});
  auto code = s.call("POST", "/api/v1/enrollment-codes?wait=10000",
                     R"({"site_id":")" + s.site_a.str() + R"(","expires_in_s":3600})", admin_a);
  REQUIRE(code.status == 202);
  const std::string code_id(json_body(code).at("id").as_string());
  bool found = false;
  for (const auto& c : items(s.call("GET", "/api/v1/enrollment-codes", "", admin_a))) {
    if (text(c.at("id")) != code_id) continue;
    found = true;
    CHECK(text(c.at("created_by_name")) == username(admin_a));
    CHECK(text(c.at("site_name")) == "Site A");
    CHECK(text(c.at("client_name")) == "Client A");
    CHECK(text(c.at("client_id")) == s.client_a.str());
  }
  CHECK(found);

  const auto& key = policy::policy_keys().front();
  auto put = s.call("PUT", "/api/v1/policies?wait=10000",
                    R"({"scope":"site","scope_id":")" + s.site_a.str() + R"(","settings":{")" +
                        std::string(key.key) + R"(":")" + std::string(key.default_value) + R"("}})",
                    admin_a);
  REQUIRE(put.status == 202);
  found = false;
  for (const auto& p : items(
           s.call("GET", "/api/v1/policies?scope=site&scope_id=" + s.site_a.str(), "", admin_a))) {
    found = true;
    CHECK(text(p.at("scope_name")) == "Site A");
    CHECK(text(p.at("set_by_name")) == username(admin_a));
  }
  CHECK(found);
  auto eff = s.call("GET", "/api/v1/agents/" + s.agent_a.str() + "/effective-policy", "", admin_a);
  REQUIRE(eff.status == 200);
  int named = 0;
  const auto eff_body = json_body(eff);
  for (const auto& [k, v] : eff_body.at("settings").as_object()) {
    const std::string scope = text(v.at("source_scope"));
    const std::string id = text(v.at("source_id"));
    if (scope == "default" || scope == "global") {
      CHECK(v.at("source_name").is_null());
      continue;
    }
    ++named;
    const std::string want = id == s.site_a.str()     ? "Site A"
                             : id == s.client_a.str() ? "Client A"
                                                      : "host-a";
    CHECK(text(v.at("source_name")) == want);
  }
  CHECK(named > 0);

  for (const auto& u : items(s.call("GET", "/api/v1/users", "", owner))) {
    if (text(u.at("id")) != admin_a.id.str()) continue;
    const auto& scopes = u.at("scopes").as_array();
    REQUIRE(scopes.size() == 1);
    CHECK(text(scopes[0].at("name")) == "Client A");
  }
}

TEST_CASE("names: alert state and clients name who acted") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  const auto alert = AlertId::generate(real_clock());
  {
    pqxx::nontransaction tx(s.db());
    tx.exec_params(
        "INSERT INTO alerts (id, agent_id, rule, severity, status, message, raised_at, "
        "raised_stream_seq) VALUES ($1::uuid, $2::uuid, 'memory', 'warning', 'active', 'full', "
        "now(), 1)",
        alert.str(), s.agent_a.str());
  }
  REQUIRE(s.call("POST", "/api/v1/alerts/" + alert.str() + "/acknowledge?wait=10000",
                 R"({"note":"on it"})", tech)
              .status == 202);
  REQUIRE(
      s.call("POST", "/api/v1/alerts/" + alert.str() + "/resolve?wait=10000", "{}", owner).status ==
      202);
  bool found = false;
  for (const auto& a :
       items(s.call("GET", "/api/v1/alerts?status=all&agent_id=" + s.agent_a.str(), "", tech))) {
    if (text(a.at("id")) != alert.str()) continue;
    found = true;
    CHECK(text(a.at("acknowledged_by_name")) == username(tech));
    CHECK(text(a.at("resolved_by_name")) == username(owner));
  }
  CHECK(found);

  auto created = s.call("POST", "/api/v1/clients?wait=10000", R"({"name":"Named Ltd"})", owner);
  REQUIRE(created.status == 202);
  auto client = s.call(
      "GET", "/api/v1/clients/" + std::string(json_body(created).at("id").as_string()), "", owner);
  REQUIRE(client.status == 200);
  CHECK(text(json_body(client).at("created_by_name")) == username(owner));
}

TEST_CASE("audit: names, filters by actor, action, target and time, and the CSV export") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  auto admin_a = s.user(UserRole::Admin, {client_scope(s.client_a)});
  // A site named like a formula: the CSV must not let a spreadsheet run it.
  auto site =
      s.call("POST", "/api/v1/sites?wait=10000",
             R"({"client_id":")" + s.client_a.str() + R"j(","name":"=HYPERLINK(\"x\",\"a,b\")"})j",
             admin_a);
  REQUIRE(site.status == 202);
  const std::string site_id(json_body(site).at("id").as_string());
  const std::string before = scalar(
      "SELECT to_char(now() AT TIME ZONE 'UTC' - interval '1 hour', "
      "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')");

  auto rows =
      items(s.call("GET", "/api/v1/audit?action=site_created&target_id=" + site_id, "", admin_a));
  REQUIRE(rows.size() == 1);
  const auto& row = rows[0];
  CHECK(text(row.at("actor_name")) == username(admin_a));
  CHECK(text(row.at("target_kind")) == "site");
  CHECK(text(row.at("target_name")) == "=HYPERLINK(\"x\",\"a,b\")");
  CHECK(text(row.at("client_name")) == "Client A");

  // Actor: the actor text, or the user's name; another actor's rows are left out.
  CHECK(items(s.call("GET", "/api/v1/audit?actor=user:" + admin_a.id.str(), "", admin_a)).size() >=
        1);
  for (const auto& r :
       items(s.call("GET", "/api/v1/audit?actor=" + username(admin_a), "", owner))) {
    CHECK(text(r.at("actor")) == "user:" + admin_a.id.str());
  }
  CHECK(items(s.call("GET", "/api/v1/audit?actor=" + username(owner) + "&target_id=" + site_id, "",
                     owner))
            .empty());
  CHECK(items(s.call("GET", "/api/v1/audit?target_kind=agent&target_id=" + site_id, "", owner))
            .empty());
  // Time: a range before the event holds nothing; one that covers it holds it.
  CHECK(items(s.call("GET", "/api/v1/audit?target_id=" + site_id + "&until=" + before, "", owner))
            .empty());
  CHECK(items(s.call("GET", "/api/v1/audit?target_id=" + site_id + "&since=" + before, "", owner))
            .size() == 1);
  CHECK(s.call("GET", "/api/v1/audit?since=yesterday", "", owner).status == 400);
  CHECK(s.call("GET", "/api/v1/audit?client_id=nope", "", owner).status == 400);
  // A client-A admin sees nothing of client B.
  for (const auto& r : items(s.call("GET", "/api/v1/audit?limit=500", "", admin_a))) {
    CHECK(text(r.at("client_id")) != s.client_b.str());
  }

  auto csv = s.call("GET", "/api/v1/audit.csv?target_id=" + site_id, "", admin_a);
  REQUIRE(csv.status == 200);
  CHECK(csv.headers.at("content-type").starts_with("text/csv"));
  CHECK(csv.headers.at("content-disposition").find("audit.csv") != std::string::npos);
  CHECK(csv.body.starts_with("\"occurred_at\",\"actor\",\"actor_name\""));
  // Quoted, quotes doubled, the formula defused with a leading apostrophe.
  CHECK(csv.body.find(R"j("'=HYPERLINK(""x"",""a,b"")")j") != std::string::npos);
  CHECK(csv.body.find("\"site_created\"") != std::string::npos);
  std::size_t lines = 0;
  for (std::size_t i = csv.body.find("\r\n"); i != std::string::npos;
       i = csv.body.find("\r\n", i + 2)) {
    ++lines;
  }
  CHECK(lines == 2);  // the header and the one row
  CHECK(s.call("GET", "/api/v1/audit.csv?until=bad", "", admin_a).status == 400);
  CHECK(http_request(s.port(), "GET", "/api/v1/audit.csv").status == 401);
}

TEST_CASE("audit: a re-enrollment into another site says where the agent moved from") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  auto site = s.call("POST", "/api/v1/sites?wait=10000",
                     R"({"client_id":")" + s.client_a.str() + R"(","name":"Annex"})", owner);
  REQUIRE(site.status == 202);
  const SiteId annex = *SiteId::parse(std::string(json_body(site).at("id").as_string()));
  const AgentId agent = s.enroll_agent(s.site_a, "mover");
  s.reenroll_agent(agent, s.site_a, "mover");  // the same site: no move
  s.reenroll_agent(agent, annex, "mover");
  auto rows = items(s.call(
      "GET", "/api/v1/audit?action=agent_enrolled&target_kind=agent&target_id=" + agent.str(), "",
      owner));
  REQUIRE(rows.size() == 3);  // newest first
  CHECK(text(rows[0].at("site_name")) == "Annex");
  CHECK(text(rows[0].at("moved_from_site_id")) == s.site_a.str());
  CHECK(text(rows[0].at("moved_from_site_name")) == "Site A");
  CHECK(rows[1].at("moved_from_site_id").is_null());
  CHECK(rows[2].at("moved_from_site_id").is_null());
  CHECK(text(rows[0].at("target_name")) == "mover");
}

TEST_CASE("audit: CSV cells") {
  CHECK(api::csv_cell("plain") == "\"plain\"");
  CHECK(api::csv_cell("a \"b\", c\r\nd") == "\"a \"\"b\"\", c\r\nd\"");
  for (const char* f : {"=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    CAPTURE(f);
    CHECK(api::csv_cell(f) == "\"'" + std::string(f) + "\"");
  }
  CHECK(api::csv_row({"a", "", "b"}) == "\"a\",\"\",\"b\"\r\n");
}

TEST_CASE("clients: a second client of the same name is refused, whatever its case") {
  auto& s = shared_stack();
  auto owner = s.user(UserRole::Owner, {});
  auto first = s.call("POST", "/api/v1/clients?wait=10000", R"({"name":"Dup Corp"})", owner);
  REQUIRE(first.status == 202);
  auto again = s.call("POST", "/api/v1/clients", R"({"name":"dup CORP"})", owner);
  CHECK(again.status == 409);
  CHECK(again.headers.at("content-type").starts_with("application/problem+json"));
  CHECK(again.body.find("exists already") != std::string::npos);
  // Renames: into another client's name refused; a client's own name in another case is fine.
  const std::string id(json_body(first).at("id").as_string());
  CHECK(s.call("PATCH", "/api/v1/clients/" + id, R"({"name":"CLIENT a"})", owner).status == 409);
  CHECK(s.call("PATCH", "/api/v1/clients/" + id + "?wait=10000", R"({"name":"DUP corp"})", owner)
            .status == 202);
  // A deleted client's name is free again.
  REQUIRE(s.call("DELETE", "/api/v1/clients/" + id + "?wait=10000", "", owner).status == 202);
  CHECK(s.call("POST", "/api/v1/clients?wait=10000", R"({"name":"Dup Corp"})", owner).status ==
        202);
}

TEST_CASE("live: a ticket opens one stream of its session's scope, once, briefly") {
  auto& s = shared_stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  auto ticket_of = [&](const TestUser& u) {
    auto r = s.call("POST", "/api/v1/live/ticket", "", u);
    REQUIRE(r.status == 200);
    auto body = json_body(r);
    CHECK(body.at("expires_at").is_string());
    return std::string(body.at("ticket").as_string());
  };
  CHECK(http_request(s.port(), "POST", "/api/v1/live/ticket").status == 401);

  const std::string t = ticket_of(tech);
  // The tech's stream: client A's command, never client B's.
  {
    SseClient live(s.port(), "/api/v1/live?ticket=" + t);
    REQUIRE(live.wait_for(": connected", 5s));
    const std::string id = issue_refresh(s, tech);
    CHECK(live.wait_for(id, 10s));
    auto owner = s.user(UserRole::Owner, {});
    auto rb =
        s.call("POST", "/api/v1/commands",
               R"({"agent_ids":[")" + s.agent_b.str() + R"("],"kind":"refresh_inventory"})", owner);
    REQUIRE(rb.status == 202);
    live.wait_for("never", 1500ms);
    CHECK(live.text().find(s.agent_b.str()) == std::string::npos);
  }
  // Used once.
  SseClient again(s.port(), "/api/v1/live?ticket=" + t);
  CHECK(again.wait_for("HTTP/1.1 401", 5s));
  // Only the live stream takes a ticket.
  CHECK(http_request(s.port(), "GET", "/api/v1/agents?ticket=" + ticket_of(tech)).status == 401);
  // Expired.
  const std::string old = ticket_of(tech);
  {
    pqxx::nontransaction tx(s.db());
    tx.exec("UPDATE auth.live_tickets SET expires_at = now() - interval '1 second'");
  }
  SseClient expired(s.port(), "/api/v1/live?ticket=" + old);
  CHECK(expired.wait_for("HTTP/1.1 401", 5s));
  SseClient garbage(s.port(), "/api/v1/live?ticket=abc");
  CHECK(garbage.wait_for("HTTP/1.1 401", 5s));
  // A ticket dies with its session.
  auto other = s.user(UserRole::Technician, {client_scope(s.client_b)});
  const std::string mine = ticket_of(other);
  {
    pqxx::nontransaction tx(s.db());
    tx.exec_params("UPDATE auth.sessions SET revoked_at = now() WHERE user_id = $1::uuid",
                   other.id.str());
  }
  SseClient revoked(s.port(), "/api/v1/live?ticket=" + mine);
  CHECK(revoked.wait_for("HTTP/1.1 401", 5s));
}
