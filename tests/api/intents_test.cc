// The intent routes against the real stack (tests/api/intent_stack.h): each publishes the right
// event (read back from the stream), ?wait= gives read-your-writes through the real projector, bad
// input is a 4xx problem document, and nothing reaches another client's agents.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <fstream>
#include <pqxx/nontransaction>
#include <sstream>

#include "admin/tenancy/enrollment_codes.h"
#include "api/intents/json_input.h"
#include "common/command_codec.h"
#include "common/event_codec.h"
#include "projector/policy/policy_keys.h"
#include "tests/api/intent_stack.h"

using namespace rmm;
using namespace rmm::test;
using schema::PolicyScope;
using schema::UserRole;

namespace {

IntentStack& stack() {
  return shared_stack();
}

// The stored control event at `seq`, verified.
const schema::Envelope* event_at(std::uint64_t seq, std::vector<std::uint8_t>& keep,
                                 std::string* subject = nullptr) {
  auto [subj, bytes] = stack().stored_event(seq);
  keep = std::move(bytes);
  if (subject) *subject = subj;
  auto env = codec::verify_event(keep);
  REQUIRE(env.has_value());
  return *env;
}

// The newest command on `agent`'s subject, its signature checked and decoded (REQUIRE fails the
// test case when there is none or it does not verify).
codec::CommandInfo last_signed_command(const AgentId& agent) {
  auto bytes = stack().last_command(agent);
  REQUIRE(bytes.has_value());
  auto verified = codec::verify_command(*bytes);
  REQUIRE(verified.has_value());
  auto info = codec::read_command(**verified);
  REQUIRE(info.has_value());
  return std::move(*info);
}

std::string str(const flatbuffers::String* s) {
  return s == nullptr ? std::string() : s->str();
}

std::uint64_t seq_of(const HttpResponse& r) {
  return json_body(r).at("stream_seq").as_int64();
}

void check_problem(const HttpResponse& r, int status) {
  CHECK(r.status == status);
  CHECK(r.headers.at("content-type") == "application/problem+json");
  auto body = json_body(r);
  CHECK(body.at("status").as_int64() == status);
  CHECK(body.contains("correlation_id"));
}

std::string scalar(const std::string& sql) {
  pqxx::nontransaction tx(stack().db());
  auto r = tx.exec(sql);
  REQUIRE(r.size() == 1);
  return r[0][0].is_null() ? "NULL" : r[0][0].c_str();
}

codec::ScopeRef client_scope(const ClientId& c) {
  return {PolicyScope::Client, c.bytes()};
}

bool contains_bytes(const std::vector<std::uint8_t>& hay, const std::string& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

}  // namespace

TEST_CASE("commands: a technician runs a command on its own agent, CommandIssued first") {
  auto& s = stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  auto r = s.call("POST", "/api/v1/commands?wait=10000",
                  R"({"agent_ids":[")" + s.agent_a.str() +
                      R"("],"kind":"shell","script":"echo hi\nexit 3","timeout_s":30})",
                  tech);
  REQUIRE(r.status == 202);
  auto body = json_body(r);
  CHECK(body.at("applied").as_bool());
  auto commands = body.at("commands").as_array();
  REQUIRE(commands.size() == 1);
  std::string id(commands[0].at("id").as_string());
  CHECK(commands[0].at("agent_id").as_string() == s.agent_a.str());

  std::vector<std::uint8_t> keep;
  std::string subject;
  const auto* env = event_at(seq_of(r), keep, &subject);
  CHECK(subject == codec::control_event_subject(schema::Payload::CommandIssued));
  REQUIRE(env->payload_type() == schema::Payload::CommandIssued);
  const auto* issued = env->payload_as_CommandIssued();
  CHECK(uuid_to_string(codec::from_wire(issued->command_id())) == id);
  CHECK(str(issued->actor()) == "user:" + tech.id.str());
  CHECK(str(issued->impersonator()).empty());
  CHECK(str(issued->summary()) == "echo hi");
  CHECK(issued->timeout_ms() == 30'000);

  const auto info = last_signed_command(s.agent_a);
  CHECK(info.id.str() == id);
  CHECK(info.issuer == "user:" + tech.id.str());
  REQUIRE(std::holds_alternative<codec::ShellSpec>(info.action));
  CHECK(std::get<codec::ShellSpec>(info.action).script == "echo hi\nexit 3");
  // Read-your-writes: the projector applied it before the 202.
  CHECK(scalar("SELECT count(*) FROM commands WHERE id = '" + id + "'") == "1");

  SUBCASE("cancel: CommandCancelRequested, then a cancel command to the same agent") {
    auto c = s.call("POST", "/api/v1/commands/" + id + "/cancel", "", tech);
    REQUIRE(c.status == 202);
    auto cancel_id = std::string(json_body(c).at("cancel_command_id").as_string());
    const auto cancel = last_signed_command(s.agent_a);
    CHECK(cancel.id.str() == cancel_id);
    REQUIRE(std::holds_alternative<codec::CancelSpec>(cancel.action));
    CHECK(std::get<codec::CancelSpec>(cancel.action).target.str() == id);
  }
}

TEST_CASE("commands: a registry write is a signed command, audited with its target") {
  auto& s = stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  auto r = s.call("POST", "/api/v1/commands?wait=10000",
                  R"({"agent_ids":[")" + s.agent_a.str() +
                      R"("],"kind":"registry","op":"set","hive":"HKLM","key":"Software\\GuruRMM",)"
                      R"("name":"Greeting","value":{"type":"multi_string","data":["a","b"]}})",
                  tech);
  REQUIRE(r.status == 202);
  std::string id(json_body(r).at("commands").as_array()[0].at("id").as_string());

  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(r), keep);
  REQUIRE(env->payload_type() == schema::Payload::CommandIssued);
  CHECK(str(env->payload_as_CommandIssued()->kind()) == "registry");
  CHECK(str(env->payload_as_CommandIssued()->summary()) ==
        "registry set HKLM\\Software\\GuruRMM\\Greeting");

  const auto info = last_signed_command(s.agent_a);
  CHECK(info.id.str() == id);
  REQUIRE(std::holds_alternative<codec::RegistrySpec>(info.action));
  const auto& spec = std::get<codec::RegistrySpec>(info.action);
  CHECK(spec.op == schema::RegistryOperation::Set);
  CHECK(spec.key == "Software\\GuruRMM");
  CHECK(spec.name == "Greeting");
  CHECK(spec.value.strings == std::vector<std::string>{"a", "b"});

  // The audit log names who wrote what where (never the data).
  CHECK(scalar("SELECT actor || ' ' || action || ' ' || target_kind || ' ' || "
               "(detail->>'kind') || ' ' || (detail->>'summary') FROM audit_log "
               "WHERE target_id = '" +
               id + "'") == "user:" + tech.id.str() +
                                " command_issued command registry "
                                "registry set HKLM\\Software\\GuruRMM\\Greeting");
  CHECK(scalar("SELECT kind || ' ' || summary FROM commands WHERE id = '" + id + "'") ==
        "registry registry set HKLM\\Software\\GuruRMM\\Greeting");

  // cmd and powershell scripts go the same way.
  for (std::string kind : {"cmd", "powershell"}) {
    auto c = s.call("POST", "/api/v1/commands",
                    R"({"agent_ids":[")" + s.agent_a.str() + R"("],"kind":")" + kind +
                        R"(","script":"echo one\r\necho two"})",
                    tech);
    REQUIRE(c.status == 202);
    CHECK(codec::command_kind(last_signed_command(s.agent_a).action) == kind);
  }
  // A registry request the API cannot accept never reaches the log.
  check_problem(s.call("POST", "/api/v1/commands",
                       R"({"agent_ids":[")" + s.agent_a.str() +
                           R"("],"kind":"registry","op":"set","hive":"HKLM","key":"K","name":"n",)"
                           R"("value":{"type":"dword","data":-5}})",
                       tech),
                400);
}

TEST_CASE("commands: another client's agents, sites and clients are not found") {
  auto& s = stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  auto before = s.last_command(s.agent_b);
  check_problem(s.call("POST", "/api/v1/commands",
                       R"({"agent_ids":[")" + s.agent_b.str() + R"("],"kind":"reboot"})", tech),
                404);
  check_problem(s.call("POST", "/api/v1/commands",
                       R"({"site_id":")" + s.site_b.str() + R"(","kind":"reboot"})", tech),
                404);
  check_problem(s.call("POST", "/api/v1/commands",
                       R"({"client_id":")" + s.client_b.str() + R"(","kind":"reboot"})", tech),
                404);
  // A mixed list is refused as a whole.
  check_problem(s.call("POST", "/api/v1/commands",
                       R"({"agent_ids":[")" + s.agent_a.str() + R"(",")" + s.agent_b.str() +
                           R"("],"kind":"refresh_inventory"})",
                       tech),
                404);
  CHECK(s.last_command(s.agent_b) == before);

  auto site = s.call("POST", "/api/v1/commands",
                     R"({"site_id":")" + s.site_a.str() + R"(","kind":"collect_processes"})", tech);
  REQUIRE(site.status == 202);
  auto commands = json_body(site).at("commands").as_array();
  REQUIRE(commands.size() >= 1);
  for (const auto& c : commands) CHECK(c.at("agent_id").as_string() != s.agent_b.str());

  auto reader = s.user(UserRole::ReadOnly, {client_scope(s.client_a)});
  check_problem(s.call("POST", "/api/v1/commands",
                       R"({"agent_ids":[")" + s.agent_a.str() + R"("],"kind":"reboot"})", reader),
                403);
}

TEST_CASE("intents: bad input is a 4xx problem document") {
  auto& s = stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  const std::string a = s.agent_a.str();
  for (const std::string& body :
       {std::string("{"), std::string("[1,2]"), std::string(R"({"agent_ids":"x","kind":"reboot"})"),
        R"({"agent_ids":[")" + a + R"("],"kind":"reboot","bogus":1})",
        R"({"agent_ids":[")" + a + R"("],"site_id":")" + s.site_a.str() + R"(","kind":"reboot"})",
        R"({"agent_ids":[")" + a + R"("],"kind":"format_disk"})",
        R"({"agent_ids":[")" + a + R"("],"kind":"shell"})",
        R"({"agent_ids":[")" + a + R"("],"kind":"reboot","timeout_s":"10"})",
        R"({"agent_ids":[")" + a + R"("],"kind":"reboot","timeout_s":0})",
        std::string(R"({"agent_ids":["not-a-uuid"],"kind":"reboot"})"),
        R"({"agent_ids":[")" + a + R"("],"kind":"shell","script":")" + std::string(600'000, 'x') +
            R"("})"}) {
    CAPTURE(body.substr(0, 120));
    check_problem(s.call("POST", "/api/v1/commands", body, tech), 400);
  }
  // Past max-body: the server refuses to read it. It answers 413 and closes, so the client either
  // reads the 413 or, when the server closed first, fails to write the rest (EPIPE/ECONNRESET).
  try {
    auto big = s.call("POST", "/api/v1/commands", std::string(2 << 20, ' '), tech);
    CHECK(big.status == 413);
  } catch (const std::exception& e) {
    std::string what = e.what();
    CHECK_MESSAGE(
        (what.find("Broken pipe") != std::string::npos || what.find("reset") != std::string::npos),
        what);
  }
  check_problem(s.call("POST", "/api/v1/commands?wait=abc",
                       R"({"agent_ids":[")" + a + R"("],"kind":"reboot"})", tech),
                400);
  check_problem(
      s.call("POST", "/api/v1/commands/" + UserId::generate(real_clock()).str() + "/cancel", "",
             tech),
      404);
  check_problem(s.call("POST", "/api/v1/commands/not-an-id/cancel", "", tech), 404);
  // Visibility comes before the body's meaning: an unknown alert is 404 whatever the body says.
  check_problem(
      s.call("POST", "/api/v1/alerts/" + a + "/suppress", R"({"until":"yesterday"})", tech), 404);
}

TEST_CASE("alerts: acknowledge, resolve, suppress; foreign alerts are not found") {
  auto& s = stack();
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  auto mine = AlertId::generate(real_clock());
  auto theirs = AlertId::generate(real_clock());
  {
    pqxx::nontransaction tx(s.db());
    for (auto [id, agent] :
         {std::pair{mine.str(), s.agent_a.str()}, std::pair{theirs.str(), s.agent_b.str()}}) {
      tx.exec_params(
          "INSERT INTO alerts (id, agent_id, rule, severity, status, message, raised_at, "
          "raised_stream_seq) VALUES ($1::uuid, $2::uuid, 'cpu', 'warning', 'active', 'hot', "
          "now(), "
          "1)",
          id, agent);
    }
  }
  auto ack = s.call("POST", "/api/v1/alerts/" + mine.str() + "/acknowledge",
                    R"({"note":"looking <b>now</b>"})", tech);
  REQUIRE(ack.status == 202);
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(ack), keep);
  REQUIRE(env->payload_type() == schema::Payload::AlertAcknowledged);
  CHECK(str(env->payload_as_AlertAcknowledged()->note()) == "looking <b>now</b>");
  CHECK(str(env->payload_as_AlertAcknowledged()->actor()) == "user:" + tech.id.str());

  auto sup = s.call("POST", "/api/v1/alerts/" + mine.str() + "/suppress",
                    R"({"until":"2999-01-01T00:00:00Z"})", tech);
  check_problem(sup, 400);  // more than a year away
  check_problem(s.call("POST", "/api/v1/alerts/" + mine.str() + "/suppress",
                       R"({"until":"yesterday"})", tech),
                400);
  sup = s.call("POST", "/api/v1/alerts/" + mine.str() + "/suppress",
               R"({"until":")" +
                   api::intents::format_rfc3339(real_clock().now() + 3'600'000'000'000) + R"("})",
               tech);
  REQUIRE(sup.status == 202);
  env = event_at(seq_of(sup), keep);
  REQUIRE(env->payload_type() == schema::Payload::AlertSuppressed);

  check_problem(s.call("POST", "/api/v1/alerts/" + theirs.str() + "/resolve", "{}", tech), 404);
  auto res = s.call("POST", "/api/v1/alerts/" + mine.str() + "/resolve?wait=10000", "", tech);
  REQUIRE(res.status == 202);
  CHECK(json_body(res).at("applied").as_bool());
  env = event_at(seq_of(res), keep);
  CHECK(env->payload_type() == schema::Payload::AlertResolved);
}

TEST_CASE("clients and sites: create, rename, delete with read-your-writes; roles and scopes") {
  auto& s = stack();
  auto owner = s.user(UserRole::Owner, {});
  auto admin_a = s.user(UserRole::Admin, {client_scope(s.client_a)});
  auto tech = s.user(UserRole::Technician, {{PolicyScope::Global, {}}});

  check_problem(s.call("POST", "/api/v1/clients", R"({"name":"Nope"})", tech), 403);
  check_problem(s.call("POST", "/api/v1/clients", R"({"name":"Nope"})", admin_a), 403);
  check_problem(s.call("POST", "/api/v1/clients", R"({"name":""})", owner), 400);
  check_problem(s.call("POST", "/api/v1/clients", R"({"name":"a\u0001b"})", owner), 400);

  auto created = s.call("POST", "/api/v1/clients?wait=10000", R"({"name":"Client C"})", owner);
  REQUIRE(created.status == 202);
  auto body = json_body(created);
  CHECK(body.at("applied").as_bool());
  std::string id(body.at("id").as_string());
  CHECK(scalar("SELECT name FROM clients WHERE id = '" + id + "'") == "Client C");

  auto renamed =
      s.call("PATCH", "/api/v1/clients/" + id + "?wait=10000", R"({"name":"Client C2"})", owner);
  REQUIRE(renamed.status == 202);
  CHECK(scalar("SELECT name FROM clients WHERE id = '" + id + "'") == "Client C2");
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(renamed), keep);
  REQUIRE(env->payload_type() == schema::Payload::ClientRenamed);
  CHECK(str(env->payload_as_ClientRenamed()->actor()) == "user:" + owner.id.str());

  // Client A's admin does not see client B (404), and may rename its own.
  check_problem(s.call("PATCH", "/api/v1/clients/" + s.client_b.str(), R"({"name":"x"})", admin_a),
                404);
  check_problem(s.call("DELETE", "/api/v1/clients/" + s.client_b.str(), "", admin_a), 404);

  auto site = s.call("POST", "/api/v1/sites?wait=10000",
                     R"({"client_id":")" + s.client_a.str() + R"(","name":"Branch"})", admin_a);
  REQUIRE(site.status == 202);
  std::string site_id(json_body(site).at("id").as_string());
  CHECK(scalar("SELECT client_id FROM sites WHERE id = '" + site_id + "'") == s.client_a.str());
  check_problem(s.call("POST", "/api/v1/sites",
                       R"({"client_id":")" + s.client_b.str() + R"(","name":"Branch"})", admin_a),
                404);
  auto del = s.call("DELETE", "/api/v1/sites/" + site_id + "?wait=10000", "", admin_a);
  REQUIRE(del.status == 202);
  CHECK(scalar("SELECT deleted_at IS NOT NULL FROM sites WHERE id = '" + site_id + "'") == "t");
  check_problem(s.call("PATCH", "/api/v1/sites/" + site_id, R"({"name":"x"})", admin_a), 404);

  auto cdel = s.call("DELETE", "/api/v1/clients/" + id + "?wait=10000", "", owner);
  REQUIRE(cdel.status == 202);
  CHECK(scalar("SELECT deleted_at IS NOT NULL FROM clients WHERE id = '" + id + "'") == "t");
}

TEST_CASE("policies: validated keys, visible scopes only") {
  auto& s = stack();
  auto admin_a = s.user(UserRole::Admin, {client_scope(s.client_a)});
  const auto& key = policy::policy_keys().front();
  std::string settings =
      R"({")" + std::string(key.key) + R"(":")" + std::string(key.default_value) + R"("})";
  auto put = s.call(
      "PUT", "/api/v1/policies?wait=10000",
      R"({"scope":"client","scope_id":")" + s.client_a.str() + R"(","settings":)" + settings + "}",
      admin_a);
  REQUIRE(put.status == 202);
  CHECK(json_body(put).at("applied").as_bool());
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(put), keep);
  REQUIRE(env->payload_type() == schema::Payload::PolicySet);
  CHECK(scalar("SELECT settings->>'" + std::string(key.key) +
               "' FROM policies WHERE scope = 'client' AND scope_id = '" + s.client_a.str() +
               "'") == std::string(key.default_value));

  check_problem(s.call("PUT", "/api/v1/policies",
                       R"({"scope":"client","scope_id":")" + s.client_a.str() +
                           R"(","settings":{"no_such_key":"1"}})",
                       admin_a),
                400);
  check_problem(s.call("PUT", "/api/v1/policies",
                       R"({"scope":"client","scope_id":")" + s.client_b.str() + R"(","settings":)" +
                           settings + "}",
                       admin_a),
                404);
  check_problem(s.call("PUT", "/api/v1/policies", R"({"scope":"global","settings":{}})", admin_a),
                403);
  check_problem(s.call("PUT", "/api/v1/policies", R"({"scope":"planet","settings":{}})", admin_a),
                400);
}

TEST_CASE("enrollment codes: the code once, only its hash in the log; revoke") {
  auto& s = stack();
  auto admin_a = s.user(UserRole::Admin, {client_scope(s.client_a)});
  auto r = s.call("POST", "/api/v1/enrollment-codes?wait=10000",
                  R"({"site_id":")" + s.site_a.str() + R"(","expires_in_s":3600})", admin_a);
  REQUIRE(r.status == 202);
  auto body = json_body(r);
  std::string code(body.at("code").as_string());
  std::string id(body.at("id").as_string());
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(r), keep);
  REQUIRE(env->payload_type() == schema::Payload::EnrollmentCodeCreated);
  CHECK(str(env->payload_as_EnrollmentCodeCreated()->code_hash()) ==
        tenancy::enrollment_code_hash(*tenancy::normalise_enrollment_code(code)));
  CHECK_FALSE(contains_bytes(keep, code));
  CHECK(scalar("SELECT count(*) FROM enrollment_codes WHERE id = '" + id + "'") == "1");

  check_problem(s.call("POST", "/api/v1/enrollment-codes",
                       R"({"site_id":")" + s.site_b.str() + R"("})", admin_a),
                404);
  check_problem(s.call("POST", "/api/v1/enrollment-codes",
                       R"({"site_id":")" + s.site_a.str() + R"(","expires_in_s":1})", admin_a),
                400);
  auto rev = s.call("POST", "/api/v1/enrollment-codes/" + id + "/revoke?wait=10000", "", admin_a);
  REQUIRE(rev.status == 202);
  CHECK(scalar("SELECT revoked FROM enrollment_codes WHERE id = '" + id + "'") == "t");
}

TEST_CASE("agents: revoke publishes AgentRevoked and revokes the keys at the broker") {
  auto& s = stack();
  auto admin_a = s.user(UserRole::Admin, {client_scope(s.client_a)});
  auto victim = s.enroll_agent(s.site_a, "host-victim");
  check_problem(s.call("POST", "/api/v1/agents/" + s.agent_b.str() + "/revoke", "{}", admin_a),
                404);
  auto tech = s.user(UserRole::Technician, {client_scope(s.client_a)});
  check_problem(s.call("POST", "/api/v1/agents/" + victim.str() + "/revoke", "{}", tech), 403);

  auto r = s.call("POST", "/api/v1/agents/" + victim.str() + "/revoke?wait=10000",
                  R"({"reason":"stolen laptop"})", admin_a);
  REQUIRE(r.status == 202);
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(r), keep);
  REQUIRE(env->payload_type() == schema::Payload::AgentRevoked);
  const auto* revoked = env->payload_as_AgentRevoked();
  REQUIRE(revoked->public_keys()->size() == 1);
  std::string key = revoked->public_keys()->Get(0)->str();
  CHECK(str(revoked->reason()) == "stolen laptop");
  CHECK(scalar("SELECT revoked_at IS NOT NULL FROM agents WHERE id = '" + victim.str() + "'") ==
        "t");
  std::ifstream in(s.nats().home() / "nats" / "revocations.json");
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str().find(key) != std::string::npos);
  check_problem(s.call("POST", "/api/v1/agents/" + victim.str() + "/revoke", "{}", admin_a), 409);
}

TEST_CASE("users: admins create and update users below them; no secret in the log") {
  auto& s = stack();
  auto admin_a = s.user(UserRole::Admin, {client_scope(s.client_a)});
  const std::string password = "correct horse battery staple";
  auto r = s.call("POST", "/api/v1/users?wait=10000",
                  R"({"username":"tech.alice","display_name":"Alice","password":")" + password +
                      R"(","role":"technician","scopes":[{"scope":"client","id":")" +
                      s.client_a.str() + R"("}]})",
                  admin_a);
  REQUIRE(r.status == 202);
  std::string id(json_body(r).at("id").as_string());
  std::vector<std::uint8_t> keep;
  const auto* env = event_at(seq_of(r), keep);
  REQUIRE(env->payload_type() == schema::Payload::UserCreated);
  CHECK_FALSE(contains_bytes(keep, password));
  CHECK(scalar("SELECT role FROM users WHERE id = '" + id + "'") == "technician");
  CHECK(scalar("SELECT password_hash LIKE '$argon2id$%' FROM auth.credentials WHERE user_id = '" +
               id + "'") == "t");

  check_problem(s.call("POST", "/api/v1/users",
                       R"({"username":"tech.alice","password":")" + password +
                           R"(","role":"technician","scopes":[{"scope":"client","id":")" +
                           s.client_a.str() + R"("}]})",
                       admin_a),
                409);
  check_problem(
      s.call("POST", "/api/v1/users",
             R"({"username":"boss","password":")" + password + R"(","role":"owner"})", admin_a),
      403);
  check_problem(s.call("POST", "/api/v1/users",
                       R"({"username":"bob","password":")" + password +
                           R"(","role":"technician","scopes":[{"scope":"client","id":")" +
                           s.client_b.str() + R"("}]})",
                       admin_a),
                404);
  check_problem(s.call("POST", "/api/v1/users",
                       R"({"username":"bob","password":"short","role":"technician"})", admin_a),
                400);

  auto upd =
      s.call("PATCH", "/api/v1/users/" + id + "?wait=10000", R"({"disabled":true})", admin_a);
  REQUIRE(upd.status == 202);
  CHECK(scalar("SELECT disabled FROM users WHERE id = '" + id + "'") == "t");
  check_problem(s.call("PATCH", "/api/v1/users/" + id, R"({"role":"admin"})", admin_a), 403);
  // Another admin is not a user an admin manages: not found.
  auto other_admin = s.user(UserRole::Admin, {client_scope(s.client_a)});
  check_problem(
      s.call("PATCH", "/api/v1/users/" + other_admin.id.str(), R"({"disabled":true})", admin_a),
      404);
}
